/**
 * Churn in the three-process deployment: 100 sessions opened and closed a few at a time — full viewers whose tab
 * or whole browser context is closed, light WebTransport viewers that stop, close or vanish with their context,
 * and raw QUIC clients that go silent (a cut network, ended by the idle timeout). Afterwards no worker thread,
 * ffmpeg process, peer connection, NATS subscription or QUIC connection is left, and memory is back near its
 * baseline (the figures are printed).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext } from "playwright-core";
import { launchChromium, type NatsSystem, startOverNats, ffmpegChildren } from "@ballstream/testing";
import { waitForHook } from "@ballstream/web/hook-reader";
import { metricSum } from "../harness/viewer-scenario.ts";
import { SMALL_SETTINGS, chromiumOfferSdp, endLight, lightState, openLight, openLightPage } from "./light-client.ts";
import { natsSubscriptions, processFigures, settle } from "./probes.ts";
import { openRawSession } from "./raw-session.ts";

const FULL_VIEWERS = 6;
const LIGHT_BATCHES = 14;
const LIGHT_PER_BATCH = 6;
const CUT_CLIENTS = 10;
/** Short QUIC idle timeout so cut clients are noticed quickly; caps high enough for the churn. */
// 100 viewers from one address within ~35 s: above the default new-session rates, which session-abuse tests.
const ENV = { WT_IDLE_TIMEOUT_MS: "3000", MAX_SESSIONS_PER_IP: "100", MAX_SESSIONS: "100", SESSION_RATE_PER_IP_PER_S: "100", SESSION_RATE_PER_S: "100", VIDEO_TIMEOUT_MS: "60000" };

let system: NatsSystem;
let browser: Browser;

beforeAll(async () => {
  [system, browser] = await Promise.all([startOverNats(ENV), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await system?.cleanup();
});

const [GENERATOR, MEDIA] = [0, 1];

interface Snapshot {
  signalingSessions: number;
  generatorWorkers: number;
  mediaPeers: number;
  quicConnections: number;
  ffmpeg: number;
  natsSubscriptions: number;
  threads: Record<string, number>;
  rssMiB: Record<string, number>;
}

async function snapshot(): Promise<Snapshot> {
  const [signaling, generator, media] = system.metricsUrls;
  const processes = { signaling: system.server, generator: system.others[GENERATOR]!, media: system.others[MEDIA]! };
  for (const p of Object.values(processes)) {
    const code = await p.exited(0);
    if (code !== null) throw new Error(`${p.name} exited with ${code}:\n${p.output().slice(-6000)}`);
  }
  const figures = Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, processFigures(p.pid)]));
  return {
    signalingSessions: await metricSum([signaling!], "ballstream_signaling_active_sessions"),
    generatorWorkers: await metricSum([generator!], "ballstream_generator_active_sessions"),
    mediaPeers: await metricSum([media!], "ballstream_media_active_peers"),
    quicConnections: await metricSum([signaling!], "ballstream_signaling_quic_connections"),
    ffmpeg: ffmpegChildren(processes.media.pid).length,
    natsSubscriptions: await natsSubscriptions(system.nats.monitorUrl!),
    threads: Object.fromEntries(Object.entries(figures).map(([n, f]) => [n, f.threads])),
    rssMiB: Object.fromEntries(Object.entries(figures).map(([n, f]) => [n, Math.round(f.rssMiB)])),
  };
}

const idle = (s: Snapshot, baseline: Snapshot) =>
  s.signalingSessions === 0 && s.generatorWorkers === 0 && s.mediaPeers === 0 && s.quicConnections === 0 && s.ffmpeg === 0 && s.natsSubscriptions <= baseline.natsSubscriptions;

/** One full viewer in its own context; closes the tab (or the whole context) once it streams. */
async function fullViewer(i: number): Promise<void> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(system.url);
  const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 0) || h.status === "error", 30_000);
  expect(hook.status).toBe("streaming");
  if (i % 2 === 0) await page.close();
  await context.close();
}

/** A batch of light sessions in one context: some stop, some close, the rest vanish with the context. */
async function lightBatch(context: BrowserContext): Promise<number> {
  const page = await context.newPage();
  const config = await openLightPage(page, system.url);
  const keys = await Promise.all(Array.from({ length: LIGHT_PER_BATCH }, () => openLight(page, config, { settings: SMALL_SETTINGS })));
  let opened = 0;
  for (const key of keys) {
    const state = await lightState(page, key);
    if (state.sessionId !== null && state.error === null) opened++;
    else console.log(`[churn] light session failed: ${state.error}`);
  }
  await endLight(page, keys[0]!, "stop");
  await endLight(page, keys[1]!, "stop");
  await endLight(page, keys[2]!, "close");
  await endLight(page, keys[3]!, "close");
  await context.close(); // the last two: gone without a word
  return opened;
}

/** A raw client that negotiates a session, then goes silent (the server must notice by the idle timeout). */
async function cutClient(wtPort: number, origin: string, sdp: string): Promise<boolean> {
  const raw = await openRawSession(wtPort, origin);
  raw.send({ type: "offer", sdp, settings: SMALL_SETTINGS });
  const answer = await raw.next("answer");
  raw.client.abandon();
  return answer !== undefined;
}

describe("churn: 100 sessions, some ended abruptly", () => {
  test("leave no threads, encoders, peers, subscriptions or connections behind; memory returns near baseline", async () => {
    const wtPort = ((await (await fetch(new URL("config.json", system.url))).json()) as { wtPort: number }).wtPort;
    const origin = new URL(system.url).origin;
    // Warm up (first-use allocations, JIT), then take the baseline.
    await fullViewer(0);
    const baseline = await settle(snapshot, (s) => idle(s, { natsSubscriptions: Infinity } as Snapshot));
    const started = performance.now();

    let sessions = 0;
    for (let i = 0; i < FULL_VIEWERS; i += 2) {
      await Promise.all([fullViewer(i), fullViewer(i + 1)]);
      sessions += 2;
    }
    for (let b = 0; b < LIGHT_BATCHES; b++) sessions += await lightBatch(await browser.newContext());

    const sdpPage = await (await browser.newContext()).newPage();
    await openLightPage(sdpPage, system.url);
    const sdp = await chromiumOfferSdp(sdpPage);
    await sdpPage.context().close();
    for (let i = 0; i < CUT_CLIENTS; i += 5) {
      const cut = await Promise.all(Array.from({ length: 5 }, () => cutClient(wtPort, origin, sdp)));
      sessions += cut.filter(Boolean).length;
    }
    const churnSeconds = (performance.now() - started) / 1000;

    // Ended worker threads leave a moment after their sessions: wait for both (the assertions below still fail if
    // threads stay).
    const threadsBack = (s: Snapshot) => Object.keys(baseline.threads).every((name) => s.threads[name]! <= baseline.threads[name]! + 4);
    const after = await settle(snapshot, (s) => idle(s, baseline) && threadsBack(s), 30_000);
    console.log(`[churn] ${sessions} sessions in ${churnSeconds.toFixed(1)} s`);
    console.log(`[churn] baseline ${JSON.stringify(baseline)}`);
    console.log(`[churn] after    ${JSON.stringify(after)}`);
    expect(sessions).toBe(FULL_VIEWERS + LIGHT_BATCHES * LIGHT_PER_BATCH + CUT_CLIENTS);
    expect({ ...after, threads: 0, rssMiB: 0, natsSubscriptions: 0 }).toEqual({
      signalingSessions: 0,
      generatorWorkers: 0,
      mediaPeers: 0,
      quicConnections: 0,
      ffmpeg: 0,
      natsSubscriptions: 0,
      threads: 0,
      rssMiB: 0,
    });
    expect(after.natsSubscriptions).toBeLessThanOrEqual(baseline.natsSubscriptions);
    for (const name of Object.keys(baseline.threads)) {
      // Worker threads end with their sessions; Bun's own pools may keep a few more threads alive.
      expect({ name, threads: after.threads[name]! <= baseline.threads[name]! + 4 }).toEqual({ name, threads: true });
      // Generous: the GC returns memory lazily; a leak of ~1 MiB a session would show as > 100 MiB.
      expect({ name, rss: after.rssMiB[name]! <= baseline.rssMiB[name]! * 1.5 + 100 }).toEqual({ name, rss: true });
    }
  });
});
