/**
 * A session's own emulated link (the page's "network" setting, docs/network-lab.md), whose conditions change while
 * it carries packets. Each change makes new emulators for the packets sent from then on (a blackout counts from the
 * change); packets already in the old ones still come out of them. With no conditions packets pass at once,
 * uncopied. It sits in series with the service's own link (MEDIA_NET_* / SIGNALING_NET_*).
 */
import type { LinkConditions } from "@ballstream/protocol";
import type { NetConditions } from "./link-emulator-config.ts";
import { type LinkClock, LinkEmulator, type LinkObserver } from "./link-emulator.ts";
import type { LinkDirection, LinkMetrics } from "./link-emulator-metrics.ts";

/**
 * Bytes one direction of a session's link holds in flight at most: a page may ask for seconds of delay while a
 * hostile one floods, and the server must not hold it all (4 MiB: 2 s at 16 Mbit/s).
 */
export const SESSION_LINK_MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

/** One direction of a {@link SessionLink}. */
export class LinkSwitch {
  #current: LinkEmulator | undefined;
  /** Replaced emulators that still hold packets in flight (dropped once idle). */
  readonly #draining = new Set<LinkEmulator>();
  readonly #make: (conditions: LinkConditions) => LinkEmulator;

  constructor(make: (conditions: LinkConditions) => LinkEmulator) {
    this.#make = make;
  }

  /** The conditions in force (undefined: a perfect link). */
  get conditions(): LinkConditions | undefined {
    return this.#current?.conditions;
  }

  /** Packets sent from now on cross a link with `conditions` (undefined: none). */
  set(conditions: LinkConditions | undefined): void {
    if (this.#current !== undefined) this.#draining.add(this.#current);
    for (const old of this.#draining) if (old.idle) this.#draining.delete(old);
    this.#current = conditions === undefined ? undefined : this.#make(conditions);
  }

  /**
   * Passes one packet: `deliver(data)` at once when no conditions are in force, else a copy (the caller may reuse
   * its buffer) through the link, delivered if and when it comes out.
   */
  pass<D extends Uint8Array>(data: D, deliver: (data: D) => void): void {
    const link = this.#current;
    if (link === undefined) return deliver(data);
    const copy = Buffer.from(data) as Uint8Array as D; // a Buffer: werift reads its packets with Buffer methods
    link.send(copy.byteLength, () => deliver(copy));
  }

  /** Stops every emulator (packets in flight are dropped); later packets pass unimpaired. */
  close(): void {
    this.#current?.close();
    for (const old of this.#draining) old.close();
    this.#draining.clear();
    this.#current = undefined;
  }
}

/** Both directions of one session's link, counted into the service's link metrics. */
export class SessionLink {
  /** What the service sends to the page. */
  readonly egress: LinkSwitch;
  /** What the service receives from the page. */
  readonly ingress: LinkSwitch;
  readonly #metrics: LinkMetrics | undefined;
  #net: NetConditions = {};

  constructor(metrics?: LinkMetrics, clock?: LinkClock) {
    this.#metrics = metrics;
    const make = (direction: LinkDirection) => (conditions: LinkConditions) => {
      const observer: LinkObserver | undefined = metrics?.observer(direction, conditions);
      return new LinkEmulator(conditions, {
        maxInFlightBytes: SESSION_LINK_MAX_IN_FLIGHT_BYTES,
        ...(clock === undefined ? {} : { clock }),
        ...(observer === undefined ? {} : { observer }),
      });
    };
    this.egress = new LinkSwitch(make("egress"));
    this.ingress = new LinkSwitch(make("ingress"));
  }

  /** The conditions in force. */
  get net(): NetConditions {
    return this.#net;
  }

  /** Puts `net` in force from now on, both directions. */
  set(net: NetConditions): void {
    this.#metrics?.sessionLinkChanged(this.#net, net);
    this.#net = net;
    this.egress.set(net.egress);
    this.ingress.set(net.ingress);
  }

  /** Ends the link: nothing more is delayed or dropped, and the metrics stop counting it. */
  close(): void {
    this.set({});
    this.egress.close();
    this.ingress.close();
  }
}
