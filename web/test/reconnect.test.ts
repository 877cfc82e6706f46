/** The page's reconnect logic: which ends retry, the backoff's bounds, the store's one step back, the samples' gaps. */
import { describe, expect, test } from "bun:test";
import { CLOSE_CODES, type ErrorReport } from "@ballstream/protocol";
import { type EndCause, RECONNECT, REPORT_SILENCE, ReportWatch, backoffMs, retries } from "../src/lib/reconnect.ts";
import { ConnectionLog, SAMPLE_COLUMNS, sampleOf, toCsv } from "../src/lib/samples.ts";
import { SessionStore } from "../src/lib/session-state.ts";

const closed = (code: number): EndCause => ({ kind: "closed", code, reason: "r", message: "m" });
const serverError = (code: string): EndCause => ({ kind: "server-error", code, message: "m" });

describe("retries", () => {
  test("a server shutting down retries, a back-end error once the session worked; a normal end, a protocol error, a limit and an idle page do not", () => {
    expect(retries(closed(CLOSE_CODES.serverShutdown), false)).toBe(true);
    expect(retries(closed(CLOSE_CODES.unavailable), false)).toBe(true); // no replica answered: not now, not never
    expect(retries(closed(CLOSE_CODES.backendError), true)).toBe(true);
    expect(retries(closed(CLOSE_CODES.backendError), false)).toBe(false);
    for (const code of [CLOSE_CODES.normal, CLOSE_CODES.protocolError, CLOSE_CODES.limitExceeded, CLOSE_CODES.idleTimeout, 99]) {
      expect(retries(closed(code), true)).toBe(false);
    }
  });

  test("server errors that mean 'not now' retry; a refused request never does", () => {
    for (const code of ["unavailable", "timeout", "internal"]) expect(retries(serverError(code), false)).toBe(true);
    expect([retries(serverError("stalled"), true), retries(serverError("stalled"), false)]).toEqual([true, false]); // worked, then stopped
    for (const code of ["bad_request", "too_large", "unsupported", "unknown_session", "anything"]) expect(retries(serverError(code), true)).toBe(false);
  });

  test("a lost connection retries, a service's fatal event once the session worked; what the browser lacks never does", () => {
    expect(retries({ kind: "service", message: "m" }, true)).toBe(true);
    expect(retries({ kind: "service", message: "encoder never produced" }, false)).toBe(false);
    expect(retries({ kind: "lost", message: "m" }, false)).toBe(true);
    expect(retries({ kind: "page", message: "no H.264" }, true)).toBe(false);
  });

  test("an unreachable server retries only once the page has streamed from it (a first failure is a misconfiguration)", () => {
    expect(retries({ kind: "unreachable", message: "m" }, false)).toBe(false);
    expect(retries({ kind: "unreachable", message: "m" }, true)).toBe(true);
    // reached before (it answered "not now"), a later handshake failing is the server busy: retried
    expect(retries({ kind: "unreachable", message: "m" }, false, true)).toBe(true);
    expect(retries({ kind: "service", message: "m" }, false, true)).toBe(false);
  });
});

describe("backoffMs", () => {
  test("doubles from the first delay and stays within [d/2, d] of its schedule", () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const d = Math.min(RECONNECT.maxDelayMs, RECONNECT.firstDelayMs * 2 ** (attempt - 1));
      expect([backoffMs(attempt, () => 0), backoffMs(attempt, () => 1)]).toEqual([d / 2, d]);
      const jittered = backoffMs(attempt);
      expect(jittered).toBeGreaterThanOrEqual(d / 2);
      expect(jittered).toBeLessThanOrEqual(d);
    }
    expect(backoffMs(1, () => 0.5)).toBe(150);
  });

  test("is capped, and a random source out of [0, 1] cannot push it outside the bounds", () => {
    expect(backoffMs(40, () => 1)).toBe(RECONNECT.maxDelayMs);
    expect(backoffMs(0, () => -5)).toBe(RECONNECT.firstDelayMs / 2);
    expect(backoffMs(3, () => 7)).toBe(RECONNECT.firstDelayMs * 4);
  });
});

describe("SessionStore across a reconnection", () => {
  test("streaming → reconnecting (the one step back) → streaming counts a resume; the end clears it", () => {
    const store = new SessionStore(() => undefined);
    store.connecting();
    store.streaming();
    expect(store.state.resumes).toBe(0);
    store.reconnecting({ attempt: 1, reason: "media died", since: "media died", delayMs: 150 });
    expect([store.state.status, store.state.reconnect?.reason, store.ended]).toEqual(["reconnecting", "media died", false]);
    store.connecting(); // a retry's connecting does not hide that it is one
    expect(store.state.status).toBe("reconnecting");
    store.streaming();
    expect([store.state.status, store.state.reconnect, store.state.resumes]).toEqual(["streaming", null, 1]);
    store.reconnecting({ attempt: 1, reason: "again", since: "again", delayMs: 100 });
    store.failed("gave up");
    expect([store.state.status, store.state.reconnect, store.state.error]).toEqual(["error", null, "gave up"]);
    store.reconnecting({ attempt: 2, reason: "late", since: "again", delayMs: 100 });
    expect(store.state.status).toBe("error");
  });
});

describe("ConnectionLog", () => {
  const report = (captureTimeMs: number): ErrorReport => ({
    frameMatched: true, found: true, frameId: 1, rtpTimestamp: captureTimeMs, detectedX: 0, detectedY: 0, frameTruthX: 0, frameTruthY: 0,
    nowTruthX: 0, nowTruthY: 0, realtimeErrorPx: 0, frameErrorPx: 0, latencyMs: 5, captureTimeMs, arrivalMs: captureTimeMs + 5,
  });

  test("names each sample's connection and marks the gap on the first sample of each later one", () => {
    const log = new ConnectionLog();
    log.add(1000, 1);
    log.add(5000, 2);
    log.add(6000, 3); // a try that never streamed
    log.add(7000, 4);
    const samples = [990, 1100, 1200, 7100, 7200].map((t) => sampleOf(report(t), null)); // arrival = capture + 5
    samples[3] = { ...samples[3]!, captureTimeMs: Number.NaN }; // unmatched: no capture time, the gap still shows
    const out = log.annotate(samples);
    expect(out.map((s) => s.connection)).toEqual([null, 1, 1, 4, 4]);
    expect(out.map((s) => s.gapMs)).toEqual([null, null, null, 5900, null]);
    const csv = toCsv(out).split("\n");
    expect(SAMPLE_COLUMNS.slice(SAMPLE_COLUMNS.indexOf("connection"), SAMPLE_COLUMNS.indexOf("channel"))).toEqual(["connection", "gapMs"]);
    const at = SAMPLE_COLUMNS.indexOf("connection");
    expect(csv[4]!.split(",").slice(at, at + 2)).toEqual(["4", "5900"]);
  });
});

describe("ReportWatch", () => {
  test("silence needs both: no report for the time and coordinates sent meanwhile", () => {
    const watch = new ReportWatch(1000);
    for (let i = 0; i < REPORT_SILENCE.frames; i++) watch.sent();
    expect(watch.silence(1000 + REPORT_SILENCE.ms - 1)).toBeNull(); // not long enough
    expect(watch.silence(1000 + REPORT_SILENCE.ms)).toMatch(/^No error report came back for 1500 ms while the page sent 20 frames' coordinates/);
    watch.reported(3000);
    expect(watch.silence(9000)).toBeNull(); // a stalled video: nothing sent since the last report
    for (let i = 0; i < REPORT_SILENCE.frames - 1; i++) watch.sent();
    expect(watch.silence(9000)).toBeNull(); // too few sent
    watch.sent();
    expect(watch.silence(9000)).not.toBeNull();
  });
});
