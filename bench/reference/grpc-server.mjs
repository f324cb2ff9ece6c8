/**
 * The reference of the `connection-memory` and `nacos2-register` figures: the least a grpc-js server (the same
 * grpc-js as ts-nacos) must do for a Nacos 2.x client connection: the vendored nacos_grpc_service.proto's two
 * services, a unary call answered at once with a success of the matching response type (decoded and encoded as
 * any grpc-js server would), each bi-stream kept open, nothing else. A floor, not a rival. It answers
 * GET /nacos/v1/console/health/readiness on `--port` (HTTP) once the gRPC port (`--port` + 1000) is bound.
 *
 *   node bench/reference/grpc-server.mjs --port 18848
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
if (!Number.isInteger(port) || port <= 0) throw new Error("usage: grpc-server.mjs --port <port>");

const protoDir = fileURLToPath(new URL("../../proto", import.meta.url));
const definition = protoLoader.loadSync("nacos2/nacos_grpc_service.proto", { includeDirs: [protoDir] });
const loaded = grpc.loadPackageDefinition(definition);
const streams = new Set();

const server = new grpc.Server();
const OK = Buffer.from(JSON.stringify({ resultCode: 200, errorCode: 0, success: true }), "utf8");
server.addService(loaded.Request.service, {
  request: (call, callback) => {
    const type = (call.request.metadata?.type ?? "").replace(/Request$/, "Response");
    callback(null, { metadata: { type }, body: { value: OK } });
  },
});
server.addService(loaded.BiRequestStream.service, {
  requestBiStream: (call) => {
    streams.add(call);
    call.on("data", () => {});
    call.on("error", () => streams.delete(call));
    call.on("end", () => {
      streams.delete(call);
      call.end();
    });
  },
});
server.bindAsync(`127.0.0.1:${port + 1000}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  createServer((req, res) => res.end(req.url === "/metrics" ? `streams ${streams.size}\n` : "UP")).listen(port, "127.0.0.1");
});
