/**
 * When the page reconnects by itself, as pure logic: why a connection ended ({@link EndCause}), whether that is
 * worth another try ({@link retries}), and how long to wait first ({@link backoffMs}: capped exponential backoff
 * with jitter, so a thousand pages cut off by one rolling update do not come back in the same millisecond).
 */
import { CLOSE_CODES } from "@ballstream/protocol";

/** Why one connection of the page's session ended. */
export type EndCause =
  /** The server closed the WebTransport session with a close code (CLOSE_CODES) and reason. */
  | { readonly kind: "closed"; readonly code: number; readonly reason: string; readonly message: string }
  /** The server answered with an `error` message (code: ErrorCode). */
  | { readonly kind: "server-error"; readonly code: string; readonly message: string }
  /** A back-end service's fatal event (a dead encoder, a generator gone). */
  | { readonly kind: "service"; readonly message: string }
  /** The WebTransport connection to the server was lost after it was up. */
  | { readonly kind: "lost"; readonly message: string }
  /** Nothing answered: `/config.json`, the WebTransport handshake or ICE failed. */
  | { readonly kind: "unreachable"; readonly message: string }
  /** This browser or page cannot play the session (no WebTransport, no H.264…): never retried. */
  | { readonly kind: "page"; readonly message: string };

/** Server error codes that say "not now", not "never" (no replica answered, a back end timed out or broke). */
const RETRY_ERROR_CODES: ReadonlySet<string> = new Set(["unavailable", "timeout", "internal"]);
/** Server error codes of a session that stopped working (no frames from the generator, no video): retried once it had worked. */
const STALL_ERROR_CODES: ReadonlySet<string> = new Set(["stalled"]);

/**
 * Whether a connection that ended with `cause` is worth another; `hasStreamed`: this page has had error reports
 * back (the session worked here before). A server shutting down, a lost connection and "not now" answers (no
 * replica answered, a back end timed out) always retry. What the server refused (bad request, origin, server full,
 * rate limits), what this browser lacks and a normal end never do. The rest retries only once the session has
 * worked: a back-end error or stall, and an unreachable server, after streaming are a replica dying or restarting,
 * while on a page that never streamed they are a misconfiguration or a broken back end (port not published,
 * origin refused, unreachable ICE address, an encoder that never produces) whose message must stay on screen.
 * `hasReached`: an earlier connection of this page got through to the server (it answered, if only "not now"): a
 * later connection that reaches nothing is the server busy or restarting, not a misconfiguration, and retries.
 */
export function retries(cause: EndCause, hasStreamed: boolean, hasReached = hasStreamed): boolean {
  switch (cause.kind) {
    case "closed":
      return cause.code === CLOSE_CODES.serverShutdown || cause.code === CLOSE_CODES.unavailable || (cause.code === CLOSE_CODES.backendError && hasStreamed);
    case "server-error":
      return RETRY_ERROR_CODES.has(cause.code) || (STALL_ERROR_CODES.has(cause.code) && hasStreamed);
    case "lost":
      return true;
    case "service":
      return hasStreamed;
    case "unreachable":
      return hasReached;
    case "page":
      return false;
  }
}

/** The reconnect schedule: the first wait, the longest, and how many tries in a row without streaming. */
export const RECONNECT = { firstDelayMs: 200, maxDelayMs: 5000, maxAttempts: 10 } as const;

/**
 * The wait before try `attempt` (1 for the first retry): doubling from {@link RECONNECT}.firstDelayMs up to
 * maxDelayMs, then "equal jitter" (half fixed, half random) so waits stay within [d/2, d] of the schedule's `d`.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const d = Math.min(RECONNECT.maxDelayMs, RECONNECT.firstDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + (Math.min(Math.max(random(), 0), 1) * d) / 2);
}

/** How long, and over how many frames' coordinates sent, no error report may come back before signaling counts as gone. */
export const REPORT_SILENCE = { ms: 1500, frames: 20 } as const;

/**
 * Notices a signaling that stopped answering while the video still plays (media streams on by itself for seconds):
 * the page keeps sending coordinates and nothing comes back. The QUIC connection alone would tell only at its idle
 * timeout (30 s) where no ICMP comes back, e.g. a dead pod behind NAT. Both conditions must hold, so a stall of the
 * video (nothing sent) or a lossy uplink (some reports still come) is not mistaken for it.
 */
export class ReportWatch {
  #sentSinceReport = 0;
  #lastReportMs: number;

  /** `nowMs`: when watching starts (the session streams). */
  constructor(nowMs: number) {
    this.#lastReportMs = nowMs;
  }

  /** A frame's coordinates went out. */
  sent(): void {
    this.#sentSinceReport++;
  }

  /** A report came back at `nowMs`. */
  reported(nowMs: number): void {
    this.#sentSinceReport = 0;
    this.#lastReportMs = nowMs;
  }

  /** Whether signaling looks gone at `nowMs`: null, or what the page says. */
  silence(nowMs: number): string | null {
    const silentMs = nowMs - this.#lastReportMs;
    if (silentMs < REPORT_SILENCE.ms || this.#sentSinceReport < REPORT_SILENCE.frames) return null;
    return `No error report came back for ${Math.round(silentMs)} ms while the page sent ${this.#sentSinceReport} frames' coordinates: the server stopped answering.`;
  }
}
