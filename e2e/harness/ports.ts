/** Free ports on 127.0.0.1 for the services a test starts. */
export { freePort as freeTcpPort } from "@ballstream/shared/testing/nats-server";

/** A UDP port on 127.0.0.1 that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = socket.port;
  socket.close();
  return port;
}
