/**
 * One bus subscription per subject however many handlers of this process want it: a channel's truths, settings,
 * events and access units reach a signaling replica once, not once per viewer of the channel there (200 viewers
 * were 200 copies of every truth from NATS, each decoded by the client). The last handler out unsubscribes; a
 * handler that throws is logged and the others still get the message.
 */
import type { Bus, BusMessage, BusSubscription } from "./bus.ts";
import type { Logger } from "../log.ts";

type Handler = (msg: BusMessage) => void;

/** A process's shared subscriptions on one bus. */
export class SharedSubscriptions {
  readonly #bus: Bus;
  readonly #log: Logger;
  readonly #subjects = new Map<string, { readonly sub: BusSubscription; readonly handlers: Set<Handler> }>();

  constructor(bus: Bus, log: Logger) {
    this.#bus = bus;
    this.#log = log;
  }

  /** How many bus subscriptions are open (one per subject with a handler). */
  get size(): number {
    return this.#subjects.size;
  }

  /** Adds `handler` to `subject` (subscribing the bus for the first); the returned subscription removes it. */
  subscribe(subject: string, handler: Handler): BusSubscription {
    let entry = this.#subjects.get(subject);
    if (entry === undefined) {
      const handlers = new Set<Handler>();
      const sub = this.#bus.subscribe(subject, (msg) => {
        for (const h of [...handlers]) {
          try {
            h(msg);
          } catch (err) {
            this.#log.warn({ err, subject }, "a shared subscription's handler failed");
          }
        }
      });
      entry = { sub, handlers };
      this.#subjects.set(subject, entry);
    }
    const added: Handler = (msg) => handler(msg); // its own entry, even for a function added twice
    entry.handlers.add(added);
    let done = false;
    return {
      subject,
      unsubscribe: () => {
        if (done) return;
        done = true;
        const current = this.#subjects.get(subject);
        if (current === undefined) return;
        current.handlers.delete(added);
        if (current.handlers.size > 0) return;
        current.sub.unsubscribe();
        this.#subjects.delete(subject);
      },
    };
  }
}
