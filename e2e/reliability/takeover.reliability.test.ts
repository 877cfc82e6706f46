/**
 * Issue 18's generator takeover, end to end over NATS with real Chromium: four viewers start on the one generator,
 * a second replica joins, the first is SIGKILLed. Every viewer's video resumes without a reload (signaling asks the
 * survivor to continue each session from its last truth); the truth after the takeover is where the ball would have
 * been (jump ≤ speed × gap + 1 px); the gap per viewer is printed. Then a rolling restart: a third replica joins and
 * the second gets SIGTERM: it hands its sessions over itself, with a shorter gap and no takeover by signaling.
 * Then the same for media: a replica SIGKILLed (signaling sees it go silent and asks each page to renegotiate with
 * the other, over the same WebTransport control stream: same session, the ball goes on) and a replica SIGTERMed
 * (it says it is leaving; the pages move at once). Last, signaling itself SIGKILLed and started again on its
 * address: every page reconnects by itself with its settings (a new session), and its samples mark the gap.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { readHook, readSamples, waitForHook } from "@ballstream/web/hook-reader";
import { type NatsSystem, type ServiceProcess, launchChromium, quantile, startOverNats } from "@ballstream/testing";
import { metricSum } from "../harness/viewer-scenario.ts";

const VIEWERS = 4;
const SPEED = 320;
let system: NatsSystem;
let browser: Browser;

beforeAll(async () => {
  [system, browser] = await Promise.all([startOverNats({ TRUTH_TIMEOUT_MS: "8000", VIDEO_TIMEOUT_MS: "10000" }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await system?.cleanup();
});

async function viewer(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${system.url}?speed=${SPEED}`);
  const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 10) || h.status === "error" || h.status === "closed", 30_000);
  if (hook.status !== "streaming") throw new Error(`viewer failed: ${hook.error}`);
  return page;
}

/** Per viewer: the longest stretch between consecutive samples' capture times after `sinceMs`, the truth's jump across it, whether frame ids went on. */
async function gapsAfter(pages: readonly Page[], sinceMs: number): Promise<Array<{ ms: number; jumpPx: number; idsOn: boolean }>> {
  return Promise.all(
    pages.map(async (p) => {
      const samples = (await readSamples(p)).filter((s) => s.frameId !== null && Number.isFinite(s.frameTruthX));
      let gap = { ms: 0, jumpPx: 0, idsOn: false };
      for (let i = 1; i < samples.length; i++) {
        const [a, b] = [samples[i - 1]!, samples[i]!];
        const ms = b.captureTimeMs - a.captureTimeMs;
        // frame ids go on across it (a fresh session would start again at 0)
        if (ms > gap.ms && b.captureTimeMs > sinceMs) gap = { ms, jumpPx: Math.hypot(b.frameTruthX - a.frameTruthX, b.frameTruthY - a.frameTruthY), idsOn: b.frameId! > a.frameId! };
      }
      return gap;
    }),
  );
}

/** Waits until every page decoded 30 more frames (or left streaming); returns their hooks. */
const resumedAll = (pages: readonly Page[]) =>
  Promise.all(
    pages.map(async (p) => {
      const before = (await readHook(p))!.framesDetected;
      return waitForHook(p, "frames after the change", (h) => h.framesDetected > before + 30 || h.status !== "streaming", 20_000);
    }),
  );

const describeGaps = (figures: ReadonlyArray<{ ms: number; jumpPx: number }>) =>
  `gap between truths p50 ${quantile(figures.map((f) => f.ms), 0.5).toFixed(0)} ms, max ${Math.max(...figures.map((f) => f.ms)).toFixed(0)} ms; ` +
  `jumps ${figures.map((f) => `${f.jumpPx.toFixed(1)} px (allowed ${((SPEED * f.ms) / 1000 + 1).toFixed(1)})`).join(", ")}`;

const pages: Page[] = [];

/** Starts another generator replica and waits until it serves start requests (its "generator ready" line). */
async function anotherGenerator(): Promise<void> {
  const p = await system.respawn("generator", { alongside: true });
  for (let i = 0; i < 200 && !p.output().includes('"generator ready"'); i++) await Bun.sleep(25);
  expect(p.output()).toContain('"generator ready"');
}

test(`SIGKILL the generator with ${VIEWERS} viewers: a second replica takes every session over, the ball continues its trajectory`, async () => {
  for (let i = 0; i < VIEWERS; i++) pages.push(await viewer());
  const first = system.others[0]!;
  await anotherGenerator(); // the survivor: a replica with no sessions yet
  const killedAt = Date.now();
  await first.stop("SIGKILL");
  const resumed = await resumedAll(pages);
  const takeovers = await metricSum([system.metricsUrls[0]!], 'ballstream_signaling_generator_takeovers_total{outcome="ok"}');
  const figures = await gapsAfter(pages, killedAt - 2000);
  console.log(`generator SIGKILLed: ${takeovers} sessions taken over by signaling; ${describeGaps(figures)}`);
  expect(takeovers).toBe(VIEWERS);
  for (const h of resumed) expect(h.status).toBe("streaming");
  for (const f of figures) {
    expect(f.ms).toBeGreaterThan(0);
    expect(f.jumpPx).toBeLessThanOrEqual((SPEED * f.ms) / 1000 + 1);
    expect(f.idsOn).toBe(true);
  }
}, 180_000);

test("rolling restart: SIGTERM the generator holding the sessions with another replica up: it hands them over itself", async () => {
  const holder = system.others[0]!; // the replica that took the sessions over above
  await anotherGenerator();
  const takeoversBefore = await metricSum([system.metricsUrls[0]!], 'ballstream_signaling_generator_takeovers_total{outcome="ok"}');
  const stoppedAt = Date.now();
  const exit = await holder.stop("SIGTERM");
  const resumed = await resumedAll(pages);
  const takeovers = (await metricSum([system.metricsUrls[0]!], 'ballstream_signaling_generator_takeovers_total{outcome="ok"}')) - takeoversBefore;
  const figures = await gapsAfter(pages, stoppedAt - 200);
  console.log(`generator SIGTERMed: exit ${exit}; ${takeovers} takeovers by signaling; ${describeGaps(figures)}; its log: ${holder.output().split("\n").filter((l) => l.includes("generator stopped") || l.includes("no replica took")).join(" ")}`);
  expect(takeovers).toBe(0); // handed over by the replica itself, before signaling saw a silence
  for (const h of resumed) expect(h.status).toBe("streaming");
  for (const f of figures) {
    expect(f.jumpPx).toBeLessThanOrEqual((SPEED * f.ms) / 1000 + 1);
    expect(f.idsOn).toBe(true);
  }
}, 180_000);

/** Starts another media replica and waits until it serves offers. */
async function anotherMedia(): Promise<ServiceProcess> {
  const p = await system.respawn("media", { alongside: true });
  for (let i = 0; i < 200 && !p.output().includes('"media service started"'); i++) await Bun.sleep(25);
  return p;
}

/** What each page went through: its session id and how often it came back by itself. */
const identities = () => Promise.all(pages.map(async (p) => (await readHook(p))!)).then((hooks) => hooks.map((h) => ({ sessionId: h.sessionId, resumes: h.resumes, reportsReceived: h.reportsReceived })));

const renegotiations = () => metricSum([system.metricsUrls[0]!], "ballstream_signaling_media_renegotiations_total");

test(`SIGKILL the media replica with ${VIEWERS} viewers: each page renegotiates with the other replica over its control stream, same session`, async () => {
  const holder = system.others[1]!;
  await anotherMedia();
  const before = await identities();
  const renegotiatedBefore = await renegotiations();
  const killedAt = Date.now();
  await holder.stop("SIGKILL");
  const resumed = await resumedAll(pages);
  const after = await identities();
  const figures = await gapsAfter(pages, killedAt - 2000);
  const renegotiated = (await renegotiations()) - renegotiatedBefore;
  console.log(`media SIGKILLed: ${renegotiated} pages asked to renegotiate; ${describeGaps(figures)}`);
  expect(renegotiated).toBe(VIEWERS);
  for (const h of resumed) expect(h.status).toBe("streaming");
  after.forEach((a, i) => {
    expect(a.sessionId).toBe(before[i]!.sessionId); // no reconnection, no reload: the same session goes on
    expect(a.resumes).toBe(before[i]!.resumes + 1);
  });
  for (const f of figures) {
    expect(f.idsOn).toBe(true);
    expect(f.jumpPx).toBeLessThanOrEqual((SPEED * f.ms) / 1000 + 1);
  }
}, 180_000);

test("rolling restart: SIGTERM the media replica holding the sessions with another up: it says it is leaving, the pages move at once", async () => {
  const holder = system.others[1]!;
  await anotherMedia();
  const before = await identities();
  const readyz = `http://127.0.0.1:${/"metricsPort":(\d+)/.exec(holder.output())?.[1]}/readyz`;
  expect((await fetch(readyz)).status).toBe(200);
  const stoppedAt = Date.now();
  const exited = holder.stop("SIGTERM");
  let draining = 0;
  for (let i = 0; i < 40 && draining !== 503; i++) {
    draining = await fetch(readyz).then((r) => r.status, () => 0);
    if (draining !== 503) await Bun.sleep(10);
  }
  expect(draining).toBe(503); // out of the Service's endpoints while it hands over
  const exit = await exited;
  const resumed = await resumedAll(pages);
  const after = await identities();
  const figures = await gapsAfter(pages, stoppedAt - 200);
  console.log(`media SIGTERMed: exit ${exit}; ${describeGaps(figures)}; its log: ${holder.output().split("\n").filter((l) => l.includes("hand-over done")).join(" ")}`);
  expect(exit).toBe(0);
  for (const h of resumed) expect(h.status).toBe("streaming");
  after.forEach((a, i) => expect(a.sessionId).toBe(before[i]!.sessionId));
  for (const f of figures) expect(f.idsOn).toBe(true);
}, 180_000);

test("signaling frozen (SIGSTOP: no close, no ICMP, as a dead pod behind NAT): the pages notice that no report comes back and reconnect once it answers again", async () => {
  const before = await identities();
  const frozenAt = Date.now();
  process.kill(system.server.pid, "SIGSTOP");
  let noticed: Awaited<ReturnType<typeof waitForHook>>[];
  try {
    noticed = await Promise.all(pages.map((p) => waitForHook(p, "noticed the silence", (h) => h.status === "reconnecting", 20_000)));
  } finally {
    await Bun.sleep(500);
    process.kill(system.server.pid, "SIGCONT");
  }
  const noticedMs = Date.now() - frozenAt;
  const back = await Promise.all(pages.map((p, i) => waitForHook(p, "back", (h) => h.status === "streaming" && h.resumes > before[i]!.resumes && h.reportsReceived > before[i]!.reportsReceived + 30, 60_000)));
  const same = back.filter((h, i) => h.sessionId === before[i]!.sessionId).length;
  console.log(`signaling frozen: every page noticed within ${noticedMs} ms (${noticed.map((h) => h.reconnect?.since.slice(0, 60)).join(" | ")}); all back ${Date.now() - frozenAt} ms after the freeze, ${same} resuming their session (any others on new sessions: the thawed process's own watchdogs may end the old ones before the resume arrives)`);
  for (const h of noticed) expect(h.reconnect?.since ?? "").toContain("No error report came back");
  back.forEach((h, i) => expect(h.resumes).toBeGreaterThan(before[i]!.resumes)); // a resume, or a new session (and, thawed, maybe a renegotiation too)
}, 120_000);

test("SIGKILL signaling and start it again on its address: every page reconnects by itself and resumes its session (its picture never stopped), and its samples mark the gap", async () => {
  const before = await identities();
  const killedAt = Date.now();
  await system.server.stop("SIGKILL");
  const reconnecting = await Promise.all(pages.map((p) => waitForHook(p, "reconnecting", (h) => h.status !== "streaming", 30_000)));
  const noticedMs = Date.now() - killedAt;
  await system.respawn("signaling");
  const back = await Promise.all(pages.map((p, i) => waitForHook(p, "the session resumed", (h) => h.status === "streaming" && h.resumes > before[i]!.resumes && h.reportsReceived > before[i]!.reportsReceived + 10, 60_000)));
  const resumed = await resumedAll(pages);
  const samples = await Promise.all(pages.map((p) => readSamples(p)));
  const gaps = samples.map((all) => all.find((s) => s.gapMs !== null && (s.decodedAtMs ?? s.arrivalMs) > killedAt)?.gapMs ?? Number.NaN);
  const connections = samples.map((all) => {
    const counts = new Map<number | null, number>();
    for (const s of all) counts.set(s.connection, (counts.get(s.connection) ?? 0) + 1);
    return [...counts].map(([c, n]) => `${c}×${n}`).join("→");
  });
  console.log(
    `signaling SIGKILLed: pages noticed after ${noticedMs} ms (${reconnecting.map((h) => h.reconnect?.reason ?? h.status).join(" | ")}); ` +
      `back by themselves, ${back.filter((h, i) => h.sessionId === before[i]!.sessionId).length} resuming their session; samples' gapMs ${gaps.map((g) => g.toFixed(0)).join(", ")} (their connections ${connections.join(", ")})`,
  );
  for (const h of [...back, ...resumed]) expect(h.status).toBe("streaming");
  back.forEach((h, i) => {
    expect(h.resumes).toBe(before[i]!.resumes + 1);
    expect(h.sessionId).toBe(before[i]!.sessionId); // resumed on the new signaling (generator and media kept it meanwhile)
    expect(h.settings?.speed).toBe(SPEED);
  });
  for (const g of gaps) expect(g).toBeGreaterThan(0);
}, 240_000);
