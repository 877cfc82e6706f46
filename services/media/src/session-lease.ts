/**
 * What keeps a media session (private or a channel viewer) alive and what ends it, from the bus: signaling's
 * heartbeat (the session ends after `heartbeatTimeoutMs` without one), its `ended`, and the viewer's network
 * setting (subject `network`), put on the session's own link (malformed ones logged and dropped).
 */
import { type Bus, type BusSubscription, type Logger, type SessionLink, netConditionsOf, netLog } from "@ballstream/runtime";
import { type NetworkSettings, decodeJson, nowMs, parseNetworkSettings, subjects } from "@ballstream/protocol";

/** What the lease tells its session. */
export interface LeaseEvents {
  /** The session must end: `ended` came, or the heartbeats stopped. */
  onEnd(reason: string): void;
}

/** Puts the viewer's network setting on its session's own emulated link, and logs it. */
export function setSessionNetwork(link: SessionLink, network: NetworkSettings, log: Logger): void {
  const net = netConditionsOf(network);
  link.set(net);
  log.info(netLog(net), "session network set");
}

/** A session's lease on the bus; {@link SessionLease.release} unsubscribes and stops the timer. */
export class SessionLease {
  readonly #subs: BusSubscription[];
  readonly #timer: ReturnType<typeof setInterval>;
  #lastHeartbeatMs = nowMs();

  constructor(bus: Bus, sessionId: string, heartbeatTimeoutMs: number, link: SessionLink, log: Logger, events: LeaseEvents) {
    this.#subs = [
      bus.subscribe(subjects.heartbeat(sessionId), () => (this.#lastHeartbeatMs = nowMs())),
      bus.subscribe(subjects.ended(sessionId), () => events.onEnd("session ended")),
      bus.subscribe(subjects.network(sessionId), (msg) => {
        try {
          setSessionNetwork(link, parseNetworkSettings(decodeJson(msg.data)), log);
        } catch (err) {
          log.warn({ err }, "malformed network setting dropped");
        }
      }),
    ];
    this.#timer = setInterval(() => {
      if (nowMs() - this.#lastHeartbeatMs > heartbeatTimeoutMs) events.onEnd("heartbeat timeout");
    }, Math.min(1000, heartbeatTimeoutMs / 2));
  }

  /** Releases the subscriptions and the timer (idempotent). */
  release(): void {
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    clearInterval(this.#timer);
  }
}
