/**
 * werift's ICE UDP sockets have no `error` listener, so an ICMP port-unreachable — a viewer whose tab or browser
 * went away while we still send to it — surfaces as an uncaught `recvmsg ECONNREFUSED` and ends the whole media
 * process (found by the churn test, docs/reliability.md). This attaches a listener to each of a peer connection's
 * sockets; QUIC-like, a lost packet is nothing to crash for, and ICE/DTLS notice a peer that is really gone.
 */
import type { Socket } from "node:dgram";
import type { Logger } from "@ballstream/runtime";
import type { RTCPeerConnection } from "werift";

/** What werift keeps privately: each ICE connection's STUN protocols and their UDP transports. */
type IceInternals = { protocols?: Array<{ transport?: { socket?: Socket } }> };

/** The UDP sockets of every ICE transport of `pc` (werift's private STUN protocols reach them; there is no API). */
export function iceSockets(pc: RTCPeerConnection): Socket[] {
  const sockets: Socket[] = [];
  for (const transport of pc.iceTransports) {
    for (const protocol of (transport.connection as unknown as IceInternals).protocols ?? []) {
      const socket = protocol.transport?.socket;
      if (socket && typeof socket.listenerCount === "function") sockets.push(socket);
    }
  }
  return sockets;
}

/** Adds an error listener (logging at debug) to every ICE UDP socket of `pc` that has none; returns how many. */
export function guardIceSockets(pc: RTCPeerConnection, log: Logger): number {
  let guarded = 0;
  for (const socket of iceSockets(pc)) {
    if (socket.listenerCount("error") > 0) continue;
    socket.on("error", (err) => log.debug({ err: err.message }, "ICE socket error (ignored)"));
    guarded++;
  }
  return guarded;
}
