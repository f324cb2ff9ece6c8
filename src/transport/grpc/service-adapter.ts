/**
 * The one bridge between protobuf-es generated services (GenService) and @grpc/grpc-js: a grpc-js
 * ServiceDefinition with protobuf-es (de)serializers, the typed shapes of a server implementation and of a
 * client, and a promise for a unary call. Paths are `/<package>.<Service>/<Method>` as in any gRPC stack.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";

type RequestOf<M> = M extends { readonly input: infer I extends DescMessage } ? MessageShape<I> : never;
type ResponseOf<M> = M extends { readonly output: infer O extends DescMessage } ? MessageShape<O> : never;

/** What a server implements: one grpc-js handler per method, typed with the generated messages. */
export type ServiceImpl<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]["methodKind"] extends "unary"
    ? grpc.handleUnaryCall<RequestOf<S[K]>, ResponseOf<S[K]>>
    : S[K]["methodKind"] extends "server_streaming"
      ? grpc.handleServerStreamingCall<RequestOf<S[K]>, ResponseOf<S[K]>>
      : S[K]["methodKind"] extends "client_streaming"
        ? grpc.handleClientStreamingCall<RequestOf<S[K]>, ResponseOf<S[K]>>
        : grpc.handleBidiStreamingCall<RequestOf<S[K]>, ResponseOf<S[K]>>;
};

export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall;

type Options = Partial<grpc.CallOptions>;

/** A generic grpc-js client whose methods (named like the generated `localName`s) are typed. */
export type ServiceClient<S extends GenServiceMethods> = grpc.Client & {
  [K in keyof S]: S[K]["methodKind"] extends "unary"
    ? UnaryMethod<RequestOf<S[K]>, ResponseOf<S[K]>>
    : S[K]["methodKind"] extends "server_streaming"
      ? (request: RequestOf<S[K]>, metadata: grpc.Metadata, options?: Options) => grpc.ClientReadableStream<ResponseOf<S[K]>>
      : S[K]["methodKind"] extends "client_streaming"
        ? (
            metadata: grpc.Metadata,
            options: Options,
            callback: grpc.requestCallback<ResponseOf<S[K]>>,
          ) => grpc.ClientWritableStream<RequestOf<S[K]>>
        : (metadata: grpc.Metadata, options?: Options) => grpc.ClientDuplexStream<RequestOf<S[K]>, ResponseOf<S[K]>>;
};

export type ServiceClientConstructor<S extends GenServiceMethods> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => ServiceClient<S>;

const undecodable = new WeakSet<object>();

/**
 * Whether a request arrived as bytes that are not a valid encoding of its message. Only requests of services
 * defined with `tolerateUndecodable` are ever marked; such a request reaches the handler as an empty message.
 */
export const isUndecodable = (request: object): boolean => undecodable.has(request);

export interface DefinitionOptions {
  /**
   * Hand undecodable requests to the handler (empty, and marked for `isUndecodable`) instead of letting
   * grpc-js answer INTERNAL, so the server can refuse them with its own status.
   */
  readonly tolerateUndecodable?: boolean;
}

const encoder =
  (desc: DescMessage) =>
  (message: MessageShape<DescMessage>): Buffer => {
    const bytes = toBinary(desc, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };

function decoder(desc: DescMessage, tolerant: boolean): (bytes: Buffer) => MessageShape<DescMessage> {
  if (!tolerant) return (bytes) => fromBinary(desc, bytes);
  return (bytes) => {
    try {
      return fromBinary(desc, bytes);
    } catch {
      const empty = create(desc);
      undecodable.add(empty);
      return empty;
    }
  };
}

export function toGrpcServiceDefinition<S extends GenServiceMethods>(
  service: GenService<S>,
  options: DefinitionOptions = {},
): grpc.ServiceDefinition<ServiceImpl<S>> {
  const definition: Record<string, grpc.MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: encoder(method.input),
      requestDeserialize: decoder(method.input, options.tolerateUndecodable === true),
      responseSerialize: encoder(method.output),
      responseDeserialize: decoder(method.output, false),
    };
  }
  return definition as grpc.ServiceDefinition<ServiceImpl<S>>;
}

export function makeClientConstructor<S extends GenServiceMethods>(service: GenService<S>): ServiceClientConstructor<S> {
  const make = grpc.makeGenericClientConstructor(toGrpcServiceDefinition(service), service.typeName);
  return make as unknown as ServiceClientConstructor<S>;
}

/**
 * Runs a unary call whose request is already encoded (by a hand-written writer, for the messages that carry
 * the most data); the answer is decoded as usual.
 */
export function unaryEncoded<Res extends MessageShape<DescMessage>>(
  client: grpc.Client,
  path: string,
  request: Uint8Array,
  response: DescMessage,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
): Promise<Res> {
  const serialize = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const deserialize = (bytes: Buffer): Res => fromBinary(response, bytes) as Res;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, serialize, deserialize, request, metadata, options, (err, answer) => {
      if (err !== null) reject(err);
      else resolve(answer as Res);
    });
  });
}

/** Runs a unary call as a promise; rejects with the grpc-js ServiceError. */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  client: grpc.Client,
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, options, (err, response) => {
      if (err !== null) reject(err);
      else resolve(response as Res);
    });
  });
}
