/**
 * werift's ICE agent falls back to `stun:stun.l.google.com:19302` when it is given no STUN server, so every
 * session's gathering waited for a server-reflexive candidate from the internet: on a cluster whose egress is
 * filtered, for the whole gathering timeout (an answer 3–5 s late, past signaling's request timeout; found by the
 * namespace topology test, docs/deploy.md). With no STUN server configured, media gathers host candidates only.
 */
import type { RTCPeerConnection } from "werift";

/** What werift keeps on each ICE connection: the STUN server it will ask (host, port), undefined for none. */
type StunInternals = { stunServer?: readonly [string, number] };

/**
 * Removes werift's built-in STUN server from every ICE transport of `pc` unless `iceServers` names a STUN server;
 * call it after `setRemoteDescription` (which makes the transports) and before `setLocalDescription` (which
 * gathers). Returns how many transports it changed.
 */
export function dropDefaultStun(pc: RTCPeerConnection, iceServers: readonly RTCIceServer[]): number {
  const urls = iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  if (urls.some((url) => url.startsWith("stun:"))) return 0;
  let changed = 0;
  for (const transport of pc.iceTransports) {
    const agent = transport.connection as unknown as StunInternals;
    if (agent.stunServer === undefined) continue;
    agent.stunServer = undefined;
    changed++;
  }
  return changed;
}
