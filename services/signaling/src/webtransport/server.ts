/** The UDP socket, connection table and session queue of a WebTransport server. */
import type { WebTransportServer, WebTransportServerOptions } from "./types.ts";

/** Binds a UDP socket and serves HTTP/3 WebTransport on it; resolves once the socket is bound. */
export async function createWebTransportServer(options: WebTransportServerOptions): Promise<WebTransportServer> {
  throw new Error(`createWebTransportServer: not implemented yet (${options.host}:${options.port})`);
}
