/**
 * Both directions of an emulated link at one UDP socket: an emulator for what the socket sends (egress) and one for
 * what it receives (ingress), and the wrapper that sends a packet through one. A direction with no conditions has
 * no emulator, and then no wrapper at all: an unimpaired socket runs exactly as before.
 */
import type { LinkConditions } from "@ballstream/protocol";
import type { NetConditions } from "./link-emulator-config.ts";
import { type LinkClock, LinkEmulator, type LinkObserver } from "./link-emulator.ts";
import type { LinkDirection } from "./link-emulator-metrics.ts";

/** The emulators of a socket's two directions; a direction without conditions has none. */
export interface LinkPair {
  /** What the socket sends goes through this one. */
  readonly egress?: LinkEmulator;
  /** What the socket receives comes through this one. */
  readonly ingress?: LinkEmulator;
}

/** Makes the emulators `net` asks for, each reporting to `observer(direction, conditions)` when given. */
export function createLinkPair(net: NetConditions, observer?: (direction: LinkDirection, conditions: LinkConditions) => LinkObserver, clock?: LinkClock): LinkPair {
  const make = (direction: LinkDirection): LinkEmulator | undefined => {
    const conditions = net[direction];
    if (conditions === undefined) return undefined;
    return new LinkEmulator(conditions, { ...(clock === undefined ? {} : { clock }), ...(observer === undefined ? {} : { observer: observer(direction, conditions) }) });
  };
  const egress = make("egress");
  const ingress = make("ingress");
  return { ...(egress === undefined ? {} : { egress }), ...(ingress === undefined ? {} : { ingress }) };
}

/** Closes both emulators of a pair (packets in flight are dropped). */
export function closeLinkPair(pair: LinkPair): void {
  pair.egress?.close();
  pair.ingress?.close();
}

/**
 * `deliver` itself when there is no link (zero cost); else a function that copies each packet (the caller may
 * reuse its buffer) and passes it through `link`, so `deliver` runs if and when it comes out.
 */
export function throughLink<D extends Uint8Array, A extends unknown[]>(link: LinkEmulator | undefined, deliver: (data: D, ...rest: A) => void): (data: D, ...rest: A) => void {
  if (link === undefined) return deliver;
  return (data, ...rest) => {
    const copy = Buffer.from(data) as Uint8Array as D; // a Buffer: werift reads its packets with Buffer methods
    link.send(copy.byteLength, () => deliver(copy, ...rest));
  };
}
