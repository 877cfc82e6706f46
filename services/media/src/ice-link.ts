/**
 * The emulated links (docs/network-lab.md) on a peer connection's ICE UDP sockets, so STUN, DTLS, RTP and RTCP all
 * cross them: the service's (MEDIA_NET_EGRESS / MEDIA_NET_INGRESS, one pair of emulators per socket, closed with
 * it) and the session's own (the page's network setting, changed live). Each socket's `send` goes through the egress
 * links and its `message` listeners (werift's) hear only what comes out of the ingress ones.
 */
import type { Socket } from "node:dgram";
import { type LinkMetrics, type LinkPair, type NetConditions, type SessionLink, closeLinkPair, createLinkPair, throughLink } from "@ballstream/runtime";
import type { RTCPeerConnection } from "werift";
import { iceSockets } from "./ice-socket-errors.ts";

/** Already wrapped sockets (a second call leaves them be). */
const impaired = new WeakSet<Socket>();

/**
 * Puts the service's link `net` (counting into `metrics`) and, after it on the way to werift, the session's own
 * live link `session` on every ICE socket of `pc` not yet impaired; returns the service link pairs made. Nothing is
 * wrapped with neither.
 */
export function impairIceSockets(pc: RTCPeerConnection, net: NetConditions, metrics: LinkMetrics, session?: SessionLink): LinkPair[] {
  const serviceWide = net.egress !== undefined || net.ingress !== undefined;
  if (!serviceWide && session === undefined) return [];
  const pairs: LinkPair[] = [];
  for (const socket of iceSockets(pc)) {
    if (impaired.has(socket)) continue;
    impaired.add(socket);
    const pair = serviceWide ? createLinkPair(net, metrics.observer) : {};
    impairSocket(socket, pair, session);
    if (serviceWide) pairs.push(pair);
  }
  return pairs;
}

/** Wraps one node:dgram socket's `send` and `message` listeners: werift → session link → service link → socket, and back. */
function impairSocket(socket: Socket, pair: LinkPair, session: SessionLink | undefined): void {
  if (pair.egress !== undefined || session !== undefined) {
    const send = socket.send.bind(socket) as (data: Uint8Array, ...rest: unknown[]) => void;
    const out = throughLink(pair.egress, (data: Uint8Array, rest: unknown[]) => {
      try {
        send(data, ...rest);
      } catch {
        // the socket closed while the packet was in flight: it is lost, as on a real link
      }
    });
    const through = session === undefined ? out : (data: Uint8Array, rest: unknown[]) => session.egress.pass(data, (copy) => out(copy, rest));
    (socket as unknown as { send: (data: Uint8Array, ...rest: unknown[]) => void }).send = (data, ...rest) => {
      // A callback (werift passes one for a hostname) is told at once: the packet has left into the link, and one
      // the link drops must not leave werift waiting.
      const callback = typeof rest.at(-1) === "function" ? (rest.pop() as (error: Error | null) => void) : undefined;
      through(data, rest);
      callback?.(null);
    };
  }
  if (pair.ingress !== undefined || session !== undefined) {
    const listeners = socket.listeners("message") as Array<(data: Buffer, rinfo: unknown) => void>;
    socket.removeAllListeners("message");
    const hear = (data: Buffer, rinfo: unknown) => {
      for (const listener of listeners) listener.call(socket, data, rinfo);
    };
    const afterService = session === undefined ? hear : (data: Buffer, rinfo: unknown) => session.ingress.pass(data, (copy) => hear(copy, rinfo));
    socket.on("message", throughLink(pair.ingress, afterService));
  }
  socket.once("close", () => closeLinkPair(pair));
}
