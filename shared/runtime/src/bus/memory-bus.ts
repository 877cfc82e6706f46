/**
 * The in-process bus of the one-process default: the {@link Bus} contract without a network. Delivery is
 * asynchronous (a microtask per message), like NATS, so a publisher never runs subscriber code on its own stack.
 * Messages are passed by reference: receivers must not modify `data`.
 */
import type { Bus, BusMessage, BusSubscription, RequestOptions, SubscribeOptions } from "./bus.ts";
import { BusError, checkSubject, subjectMatches } from "./bus.ts";
import type { Logger } from "../log.ts";

interface Sub {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly handler: (msg: BusMessage) => void;
  active: boolean;
}

/**
 * Default payload limit of the in-process bus: the same 1 MiB a default nats-server allows, so a frame is split
 * into the same chunks (`splitFrame`) and accepted or refused the same way on both buses.
 */
export const MEMORY_BUS_MAX_PAYLOAD = 1024 * 1024;

/** An in-process implementation of {@link Bus}. */
export class MemoryBus implements Bus {
  readonly maxPayload: number;
  #subs = new Set<Sub>();
  #pending = 0;
  #idle: Array<() => void> = [];
  #draining = false;
  #closed = false;
  #inboxSeq = 0;
  #queueTurn = new Map<string, number>();

  constructor(
    private readonly log?: Logger,
    options: { maxPayload?: number } = {},
  ) {
    this.maxPayload = options.maxPayload ?? MEMORY_BUS_MAX_PAYLOAD;
  }

  get closed(): boolean {
    return this.#draining || this.#closed;
  }

  publish(subject: string, data: Uint8Array): void {
    this.#send(subject, data, undefined);
  }

  subscribe(subject: string, handler: (msg: BusMessage) => void, options: SubscribeOptions = {}): BusSubscription {
    if (this.closed) throw new BusError("closed", "bus is closed");
    checkSubject(subject, true);
    const sub: Sub = { subject, queue: options.queue, handler, active: true };
    this.#subs.add(sub);
    return {
      subject,
      unsubscribe: () => {
        sub.active = false;
        this.#subs.delete(sub);
      },
    };
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    return new Promise((resolve, reject) => {
      const inbox = `_INBOX.${++this.#inboxSeq}`;
      // Subscribe first: if the bus is closed this throws (rejecting the promise) before any timer exists.
      const sub = this.subscribe(inbox, (msg) => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(msg);
      });
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(new BusError("timeout", `request on ${subject} timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      try {
        if (this.#send(subject, data, inbox) === 0) throw new BusError("no_responders", `no responders on ${subject}`);
      } catch (err) {
        clearTimeout(timer);
        sub.unsubscribe();
        reject(err);
      }
    });
  }

  async drain(): Promise<void> {
    this.#draining = true;
    if (this.#pending > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    for (const s of this.#subs) s.active = false;
    this.#subs.clear();
    this.#closed = true;
  }

  /** Routes one message; returns how many subscribers it was given to. */
  #send(subject: string, data: Uint8Array, replyTo: string | undefined): number {
    if (this.#closed) throw new BusError("closed", "bus is closed");
    checkSubject(subject, false);
    if (data.length > this.maxPayload) {
      throw new BusError("too_large", `message of ${data.length} bytes exceeds max payload ${this.maxPayload}`);
    }
    const plain: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    for (const s of this.#subs) {
      if (!subjectMatches(s.subject, subject)) continue;
      if (s.queue === undefined) plain.push(s);
      else groups.set(s.queue, [...(groups.get(s.queue) ?? []), s]);
    }
    for (const [queue, members] of groups) {
      const turn = this.#queueTurn.get(queue) ?? 0;
      this.#queueTurn.set(queue, turn + 1);
      plain.push(members[turn % members.length]!);
    }
    const msg: BusMessage = {
      subject,
      data,
      respond: (reply) => {
        if (replyTo === undefined || this.#closed) return false;
        this.#send(replyTo, reply, undefined);
        return true;
      },
    };
    for (const s of plain) this.#deliver(s, msg);
    return plain.length;
  }

  #deliver(sub: Sub, msg: BusMessage): void {
    this.#pending++;
    queueMicrotask(() => {
      try {
        if (sub.active) sub.handler(msg);
      } catch (err) {
        this.log?.error({ err, subject: msg.subject }, "bus handler threw");
      } finally {
        if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
      }
    });
  }
}
