/**
 * A channel source's claim on the bus (subject `claim`): one generator session and one media encoder per channel,
 * whichever replica started them. The claimant says who it is and since when at once and every
 * `SESSION_TIMING.claimIntervalMs`; hearing an older claimant of the same service (`yieldsTo`) it gives way, once.
 * Two sources of one channel exist only when two first viewers arrive at two signaling replicas within one bus
 * round trip, or a takeover races a source that was only slow; the younger goes within one claim.
 */
import { type Claim, SESSION_TIMING, decodeJson, encodeJson, parseClaim, subjects, yieldsTo } from "@ballstream/protocol";
import type { Bus, BusSubscription } from "./bus/bus.ts";
import type { Logger } from "./log.ts";

/** One claimant; {@link SessionClaim.release} stops claiming. */
export class SessionClaim {
  readonly #bus: Bus;
  readonly #subject: string;
  readonly #mine: Claim;
  readonly #sub: BusSubscription;
  readonly #timer: ReturnType<typeof setInterval>;
  #yielded = false;

  /** Claims `sessionId` for `service` as replica `instance`; `onYield` runs once when an older claimant is heard. */
  constructor(bus: Bus, sessionId: string, service: "generator" | "media", instance: string, log: Logger, onYield: (to: Claim) => void, intervalMs: number = SESSION_TIMING.claimIntervalMs) {
    this.#bus = bus;
    this.#subject = subjects.claim(sessionId, service);
    this.#mine = { instance, sinceMs: Date.now() };
    this.#sub = bus.subscribe(this.#subject, (msg) => {
      let theirs: Claim;
      try {
        theirs = parseClaim(decodeJson(msg.data));
      } catch (err) {
        log.warn({ err }, "malformed claim dropped");
        return;
      }
      if (this.#yielded || !yieldsTo(this.#mine, theirs)) return;
      this.#yielded = true;
      log.info({ to: theirs.instance, since: theirs.sinceMs }, "an older source of this channel is running: giving way");
      this.release();
      onYield(theirs);
    });
    this.#timer = setInterval(() => this.#say(log), intervalMs);
    this.#say(log);
  }

  /** This claimant's claim. */
  get claim(): Claim {
    return this.#mine;
  }

  /** Stops claiming (idempotent). */
  release(): void {
    clearInterval(this.#timer);
    this.#sub.unsubscribe();
  }

  #say(log: Logger): void {
    try {
      this.#bus.publish(this.#subject, encodeJson(this.#mine));
    } catch (err) {
      log.warn({ err }, "claim not published");
    }
  }
}
