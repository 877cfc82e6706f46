/**
 * Bad input, limits, security and shutdown under load, against the one-process deployment while a healthy
 * Chromium viewer plays: over 10,000 malformed UDP / QUIC / HTTP/3 / WebTransport inputs, a foreign origin,
 * oversized control messages, garbage SDP, coordinates naming another session's frames, datagram floods, the
 * per-address cap, the control rate cap, the offer idle timeout — each refused clearly, counted, and the healthy
 * viewer keeps its video and its error reports. Then SIGTERM with 10 live sessions.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLOSE_CODES, encodeCoordinates } from "@ballstream/protocol";
import type { Browser, Page } from "playwright-core";
import type { BallstreamHook } from "@ballstream/web/hook";
import { waitForHook } from "@ballstream/web/hook-reader";
import type { RunningSystem } from "@ballstream/testing";
import { chromiumOfferSdp, lightState, openLight, openLightPage } from "./light-client.ts";
import { healthyStillPlays, startLiveSystem } from "./live-system.ts";
import { metricSample, settle } from "./probes.ts";
import { type RawSession, openRawSession } from "./raw-session.ts";

const MAX_PER_IP = 12;
// SESSION_RATE_PER_IP_PER_S: every raw session here comes from 127.0.0.1 (the new-session rate has its own test: session-abuse).
/** 40 garbage connections in a row from 127.0.0.1: the per-address connection cap is not what this file tests. */
const ENV = { MAX_SESSIONS_PER_IP: String(MAX_PER_IP), WT_MAX_CONNECTIONS_PER_IP: "100", SESSION_RATE_PER_IP_PER_S: "100", CONTROL_RATE_PER_S: "10", DATAGRAM_RATE_PER_S: "200", OFFER_TIMEOUT_MS: "2000" };
const REJECTED = "ballstream_signaling_messages_rejected_total";

let system: RunningSystem;
let browser: Browser;
let healthy: Page;
let metricsUrl: string;
let wtPort: number;
let origin: string;
let sdp: string;
const raws: RawSession[] = [];

beforeAll(async () => {
  ({ system, browser, healthy, metricsUrl, wtPort, origin } = await startLiveSystem(ENV));
  const helper = await (await browser.newContext()).newPage();
  await openLightPage(helper, system.url);
  sdp = await chromiumOfferSdp(helper);
  await helper.context().close();
});

afterAll(async () => {
  for (const r of raws) r.client.close();
  await browser?.close();
  await system?.cleanup();
});

async function raw(from = origin): Promise<RawSession> {
  const r = await openRawSession(wtPort, from);
  raws.push(r);
  return r;
}

/** Closes every raw client and waits until signaling holds only the healthy viewer's session. */
async function closeRaws(): Promise<void> {
  for (const r of raws.splice(0)) r.client.close();
  const left = await settle(() => metricSample(metricsUrl, "ballstream_signaling_active_sessions"), (n) => n === 1);
  expect(left).toBe(1);
}

/** Deterministic pseudo-random bytes (a seeded xorshift), so a failure can be replayed. */
function randomBytes(seed: { s: number }, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    seed.s ^= seed.s << 13;
    seed.s ^= seed.s >>> 17;
    seed.s ^= seed.s << 5;
    out[i] = seed.s & 0xff;
  }
  return out;
}

describe("bad input against a live system", () => {
  test("over 10,000 malformed UDP, QUIC, HTTP/3 and WebTransport inputs: no crash, the healthy viewer plays on", async () => {
    const seed = { s: 0x9e3779b9 };
    let inputs = 0;
    // 1. Raw UDP: random bytes, and QUIC-looking long headers with garbage behind them.
    const udp = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    for (let i = 0; i < 4000; i++) {
      const packet = randomBytes(seed, 1 + (i % 1300));
      if (i % 2 === 0) packet[0] = 0xc0 | (packet[0]! & 0x0f);
      udp.send(packet, wtPort, "127.0.0.1");
      inputs++;
      if (i % 200 === 0) await Bun.sleep(1);
    }
    udp.close();
    // 2. QUIC connections sending garbage HTTP/3 on fresh unidirectional and bidirectional streams.
    for (let c = 0; c < 40; c++) {
      const r = await raw();
      for (let i = 0; i < 50; i++) {
        const streamId = i % 2 === 0 ? 2 + 4 * (i + 1) : 8 + 4 * i;
        try {
          r.client.send(streamId, randomBytes(seed, 1 + (i * 37) % 900), i % 3 === 0);
        } catch {
          // the server closed this connection already: the remaining inputs go nowhere, as they should
        }
        inputs++;
      }
      r.client.close();
    }
    // 3. Malformed datagrams on an accepted session: random sizes and bytes, unknown quarter stream ids.
    const r = await raw();
    expect(r.status).toBe("200");
    for (let i = 0; i < 4200; i++) {
      const payload = randomBytes(seed, i % 1100);
      // Last, bare ones (no or a random quarter stream id): an undecodable id closes that connection (RFC 9297).
      if (i >= 3200) r.client.datagram(payload);
      else r.datagram(payload);
      inputs++;
      if (i % 100 === 0) await Bun.sleep(2);
    }
    console.log(`[bad-input] ${inputs} malformed inputs sent`);
    expect(inputs).toBeGreaterThanOrEqual(10_000);
    expect((await fetch(new URL("healthz", system.url))).status).toBe(200);
    expect(await metricSample(metricsUrl, REJECTED, { kind: "datagram" })).toBeGreaterThan(0);
    await healthyStillPlays(healthy);
  });

  test("a CONNECT from a foreign origin gets 403 and is counted", async () => {
    const before = await metricSample(metricsUrl, REJECTED, { kind: "connection", reason: "forbidden" });
    const r = await raw("https://evil.example");
    expect(r.status).toBe("403");
    expect(await metricSample(metricsUrl, REJECTED, { kind: "connection", reason: "forbidden" })).toBe(before + 1);
  });

  test("an oversized control message is refused before it is buffered: too_large, protocolError", async () => {
    const r = await raw();
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 1 << 20);
    r.sendControlBytes(header);
    const error = await r.next("error");
    expect(error).toMatchObject({ type: "error", code: "too_large" });
    await r.client.until(() => r.ended(), 10_000);
  });

  test("garbage SDP: refused by signaling before any work as bad_request, and a close", async () => {
    const r = await raw();
    r.send({ type: "offer", sdp: "v=0 this is not SDP" });
    const error = await r.next("error");
    expect(error).toMatchObject({ type: "error", code: "bad_request" });
    expect(error?.type === "error" && error.message).toStartWith("not an offer the page sends: ");
    await r.client.until(() => r.ended(), 10_000);
  });

  test("coordinates naming another session's frames cannot affect it; floods are rate-capped and counted", async () => {
    const r = await raw();
    r.send({ type: "offer", sdp });
    expect(await r.next("answer")).toBeDefined();
    const theirs = await healthy.evaluate(() => (globalThis as unknown as { ballstream: BallstreamHook }).ballstream.samples().slice(-50).map((s) => s.rtpTimestamp));
    const limitedBefore = await metricSample(metricsUrl, REJECTED, { kind: "datagram", reason: "rate_limited" });
    for (let i = 0; i < 5000; i++) {
      const rtpTimestamp = theirs[i % theirs.length]!;
      r.datagram(encodeCoordinates({ rtpTimestamp, found: true, x: 1, y: 1, decodedAtMs: Date.now(), detectMs: 1 }));
      r.client.datagram(new Uint8Array([0x01, ...encodeCoordinates({ rtpTimestamp, found: true, x: 1, y: 1, decodedAtMs: Date.now(), detectMs: 1 })])); // quarter id 1: no such session here
      if (i % 250 === 0) await Bun.sleep(2);
    }
    expect(await metricSample(metricsUrl, REJECTED, { kind: "datagram", reason: "rate_limited" })).toBeGreaterThan(limitedBefore);
    expect(r.ended()).toBe(false); // a flood is dropped, not fatal
    await healthyStillPlays(healthy); // its frame errors stay ≤ 2 px: the bogus (1, 1) centres never touched it
  });

  test("control messages over the rate cap end the session with limitExceeded", async () => {
    const r = await raw();
    r.send({ type: "offer", sdp });
    expect(await r.next("answer")).toBeDefined();
    for (let i = 0; i < 30; i++) r.send({ type: "control", speed: 100 + i });
    const error = await r.next("error");
    expect(error).toMatchObject({ type: "error", code: "rate_limited" });
    await r.client.until(() => r.ended(), 10_000);
  });

  test("no offer within OFFER_TIMEOUT_MS: the session is closed and counted as idle", async () => {
    const before = await metricSample(metricsUrl, REJECTED, { kind: "session", reason: "idle_timeout" });
    const r = await raw();
    await r.client.until(() => r.ended(), 15_000);
    expect(await metricSample(metricsUrl, REJECTED, { kind: "session", reason: "idle_timeout" })).toBe(before + 1);
  });

  test(`at most ${MAX_PER_IP} sessions per address; the next one is refused and counted`, async () => {
    await closeRaws();
    const before = await metricSample(metricsUrl, REJECTED, { kind: "session", reason: "limit_exceeded" });
    const opened = await Promise.all(Array.from({ length: MAX_PER_IP }, () => raw())); // + the healthy viewer = one over
    await opened[0]!.client.until(() => opened.some((r) => r.ended()), 10_000);
    expect(opened.filter((r) => r.ended())).toHaveLength(1);
    expect(await metricSample(metricsUrl, REJECTED, { kind: "session", reason: "limit_exceeded" })).toBe(before + 1);
    await closeRaws();
    await healthyStillPlays(healthy);
  });

  test("no secrets in the logs: no private key, no ICE passwords from the SDPs", () => {
    const output = system.server.output();
    expect(output.length).toBeGreaterThan(0);
    expect(output).not.toContain("PRIVATE KEY");
    expect(output).not.toContain("a=ice-pwd");
    expect(output).not.toContain(sdp.slice(0, 60));
  });

  test("SIGTERM with 10 live sessions: every page gets a close reason, exit 0 within 3 s", async () => {
    const page = await (await browser.newContext()).newPage();
    const config = await openLightPage(page, system.url);
    const keys = await Promise.all(Array.from({ length: 9 }, () => openLight(page, config)));
    for (const key of keys) expect(await lightState(page, key)).toMatchObject({ error: null, closed: null });
    const started = performance.now();
    const code = await system.server.stop("SIGTERM", 10_000);
    const exitMs = performance.now() - started;
    console.log(`[shutdown] 10 sessions: exit ${code} after ${exitMs.toFixed(0)} ms`);
    expect(code).toBe(0);
    expect(exitMs).toBeLessThanOrEqual(3000);
    for (const key of keys) {
      const state = await waitForLight(page, key);
      expect(state.closed?.closeCode).toBe(CLOSE_CODES.serverShutdown);
      expect(state.closed?.reason).toContain("shutting down");
    }
    const hook = await waitForHook(healthy, "told about the shutdown", (h) => h.status !== "streaming", 10_000);
    expect([hook.status, hook.reconnect?.since ?? ""]).toEqual(["reconnecting", expect.stringContaining("shut down")]);
  });
});

async function waitForLight(page: Page, key: number) {
  for (let i = 0; i < 50; i++) {
    const state = await lightState(page, key);
    if (state.closed) return state;
    await Bun.sleep(100);
  }
  return lightState(page, key);
}
