/**
 * gRPC server reflection (v1), answered from the descriptors protobuf-es embeds in the generated code, so
 * `buf curl` and grpcurl can call a server without the .proto files. Our own because @grpc/reflection serves
 * descriptors that lose their imports (`dependency`), which breaks every schema that imports another file.
 */
import { create, toBinary, type DescFile, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  ServerReflection,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import type { ServiceImpl } from "./service-adapter.js";

/** A file followed by everything it imports, transitively, each once. */
function withDependencies(file: DescFile): DescFile[] {
  const out: DescFile[] = [];
  const visit = (f: DescFile): void => {
    if (out.includes(f)) return;
    out.push(f);
    f.dependencies.forEach(visit);
  };
  visit(file);
  return out;
}

class DescriptorIndex {
  readonly serviceNames: string[];
  private readonly byFilename = new Map<string, DescFile>();
  private readonly bySymbol = new Map<string, DescFile>();

  constructor(services: readonly DescService[]) {
    this.serviceNames = services.map((s) => s.typeName);
    for (const file of services.flatMap((s) => withDependencies(s.file))) {
      this.byFilename.set(file.proto.name, file);
      for (const type of nestedTypes(file)) {
        this.bySymbol.set(type.typeName, file);
        if (type.kind === "service") for (const m of type.methods) this.bySymbol.set(`${type.typeName}.${m.name}`, file);
      }
    }
  }

  fileByName(name: string): DescFile | undefined {
    return this.byFilename.get(name);
  }

  fileBySymbol(symbol: string): DescFile | undefined {
    return this.bySymbol.get(symbol);
  }
}

type Answer = NonNullable<MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]>;

function answer(index: DescriptorIndex, request: ServerReflectionRequest): Answer {
  const files = (file: DescFile | undefined, what: string): Answer =>
    file === undefined
      ? { case: "errorResponse", value: { errorCode: grpc.status.NOT_FOUND, errorMessage: `${what} not found` } }
      : {
          case: "fileDescriptorResponse",
          value: { fileDescriptorProto: withDependencies(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)) },
        };
  const { messageRequest: r } = request;
  switch (r.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.serviceNames.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(index.fileByName(r.value), `file '${r.value}'`);
    case "fileContainingSymbol":
      return files(index.fileBySymbol(r.value), `symbol '${r.value}'`);
    default:
      // No extensions in our schemas; clients treat UNIMPLEMENTED here as "none".
      return { case: "errorResponse", value: { errorCode: grpc.status.UNIMPLEMENTED, errorMessage: "not implemented" } };
  }
}

/** The reflection service for `services` (the reflection service itself is listed too). */
export function reflectionImpl(services: readonly DescService[]): ServiceImpl<typeof ServerReflection.method> {
  const index = new DescriptorIndex([...services, ServerReflection]);
  return {
    serverReflectionInfo(call) {
      call.on("data", (request: ServerReflectionRequest) => {
        call.write(
          create(ServerReflectionResponseSchema, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer(index, request),
          }),
        );
      });
      call.on("end", () => call.end());
    },
  };
}
