/**
 * The emulated link (MEDIA_NET_EGRESS / MEDIA_NET_INGRESS, docs/network-lab.md) on a peer connection's ICE UDP
 * sockets, so STUN, DTLS, RTP and RTCP all cross it: each socket's `send` goes through the egress emulator and its
 * `message` listeners (werift's) hear only what comes out of the ingress one. One pair of emulators per socket,
 * closed with it. Nothing is wrapped when no conditions are set.
 */
import type { Socket } from "node:dgram";
import { type LinkMetrics, type LinkPair, type NetConditions, closeLinkPair, createLinkPair, throughLink } from "@ballstream/runtime";
import type { RTCPeerConnection } from "werift";
import { iceSockets } from "./ice-socket-errors.ts";

/** Already wrapped sockets (a second call leaves them be). */
const impaired = new WeakSet<Socket>();

/** Puts `net` on every ICE socket of `pc` not yet impaired, counting into `metrics`; returns the pairs made (none for no conditions). */
export function impairIceSockets(pc: RTCPeerConnection, net: NetConditions, metrics: LinkMetrics): LinkPair[] {
  if (net.egress === undefined && net.ingress === undefined) return [];
  const pairs: LinkPair[] = [];
  for (const socket of iceSockets(pc)) {
    if (impaired.has(socket)) continue;
    impaired.add(socket);
    const pair = createLinkPair(net, metrics.observer);
    impairSocket(socket, pair);
    pairs.push(pair);
  }
  return pairs;
}

/** Wraps one node:dgram socket's `send` and `message` listeners with `pair`. */
function impairSocket(socket: Socket, pair: LinkPair): void {
  if (pair.egress !== undefined) {
    const send = socket.send.bind(socket) as (data: Uint8Array, ...rest: unknown[]) => void;
    const through = throughLink(pair.egress, (data: Uint8Array, rest: unknown[]) => {
      try {
        send(data, ...rest);
      } catch {
        // the socket closed while the packet was in flight: it is lost, as on a real link
      }
    });
    (socket as unknown as { send: (data: Uint8Array, ...rest: unknown[]) => void }).send = (data, ...rest) => {
      // A callback (werift passes one for a hostname) is told at once: the packet has left into the link, and one
      // the link drops must not leave werift waiting.
      const callback = typeof rest.at(-1) === "function" ? (rest.pop() as (error: Error | null) => void) : undefined;
      through(data, rest);
      callback?.(null);
    };
  }
  if (pair.ingress !== undefined) {
    const listeners = socket.listeners("message") as Array<(data: Buffer, rinfo: unknown) => void>;
    socket.removeAllListeners("message");
    const hear = throughLink(pair.ingress, (data: Buffer, rinfo: unknown) => {
      for (const listener of listeners) listener.call(socket, data, rinfo);
    });
    socket.on("message", hear);
  }
  socket.once("close", () => closeLinkPair(pair));
}
