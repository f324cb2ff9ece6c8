/** Whether nothing listens on `port` of 127.0.0.1 right now: for the local cluster, the tests and the benches. */
import { once } from "node:events";
import { createServer } from "node:net";

export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  server.unref();
  server.on("error", () => {});
  try {
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}
