/**
 * The message bus every service talks through. Two implementations share this contract (and one test suite):
 * NATS for separate processes and the in-process bus for the one-process default. Semantics follow NATS core:
 * at-most-once delivery, subject tokens separated by `.`, wildcards `*` (one token) and `>` (the rest), and
 * queue groups where each message goes to one member of the group.
 */

/** A received message. `respond` answers a request (false when the message was not a request). */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  respond(data: Uint8Array): boolean;
}

/** Options of a subscription. */
export interface SubscribeOptions {
  /** Join this queue group: each message reaches one subscriber of the group. */
  readonly queue?: string;
}

/** A live subscription. */
export interface BusSubscription {
  readonly subject: string;
  /** Stops delivery at once; idempotent. */
  unsubscribe(): void;
}

/** Options of a request. */
export interface RequestOptions {
  readonly timeoutMs: number;
}

/** The bus. Handlers run synchronously per message; an exception in one is logged and does not stop delivery. */
export interface Bus {
  /** The largest message this bus accepts, in bytes (NATS: the server's max_payload). */
  readonly maxPayload: number;
  /** Publishes `data` on `subject`; throws {@link BusError} if the message is too large or the bus is closed. */
  publish(subject: string, data: Uint8Array): void;
  /** Delivers messages whose subject matches `subject` (wildcards allowed) to `handler`. */
  subscribe(subject: string, handler: (msg: BusMessage) => void, options?: SubscribeOptions): BusSubscription;
  /** Sends a request and resolves with the first reply; rejects with {@link BusError} on timeout or no responders. */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage>;
  /** Stops all subscriptions after the messages already received are handled, flushes, then closes. */
  drain(): Promise<void>;
  /** True once the bus is closed or draining. */
  readonly closed: boolean;
}

/** Why a bus operation failed. */
export type BusErrorCode = "timeout" | "no_responders" | "too_large" | "closed" | "bad_subject";

/** A bus operation failure with a code callers can switch on. */
export class BusError extends Error {
  override readonly name = "BusError";
  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[^\s.*>]+$/;

/** Throws {@link BusError} unless `subject` is a valid subject (wildcards only when `allowWildcards`). */
export function checkSubject(subject: string, allowWildcards: boolean): void {
  const tokens = subject.split(".");
  const ok = tokens.every((t, i) => TOKEN.test(t) || (allowWildcards && (t === "*" || (t === ">" && i === tokens.length - 1))));
  if (!ok || subject.length === 0) throw new BusError("bad_subject", `invalid subject "${subject}"`);
}

/** Whether the concrete `subject` matches `pattern` (which may contain `*` and a trailing `>`). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
