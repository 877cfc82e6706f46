/**
 * Issue 18's NATS cluster, end to end: three nats-server nodes clustered on loopback, the three services each given
 * every seed, four Chromium viewers. SIGKILL the node the generator is on (frames and truths cross it), then the
 * node media moved to: each time every viewer's video resumes without a reload, and the gap (the longest stretch
 * without a newly detected frame) is printed per viewer. Then a new viewer starts on the surviving node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { type NatsSystem, launchChromium, natsNodeOf, natsRoutes, quantile, startOverNats } from "@ballstream/testing";

const VIEWERS = 4;
let system: NatsSystem;
let browser: Browser;
const pages: Page[] = [];

beforeAll(async () => {
  [system, browser] = await Promise.all([startOverNats({}, { natsNodes: 3 }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await system?.cleanup();
});

async function viewer(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(system.url);
  const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 5) || h.status === "error" || h.status === "closed", 30_000);
  if (hook.status !== "streaming") throw new Error(`viewer failed: ${hook.error}`);
  return page;
}

/**
 * Kills node `index` (or stops it with SIGTERM, `how`) and watches every viewer for `watchMs`: each one's longest
 * gap without a new detected frame (ms), and whether it is still streaming.
 */
async function killAndWatch(index: number, watchMs = 8000, how: "kill" | "stop" = "kill"): Promise<{ gaps: number[]; streaming: boolean[] }> {
  const last = await Promise.all(pages.map(async (p) => ({ frames: (await readHook(p))!.framesDetected, at: Date.now() })));
  const gaps = pages.map(() => 0);
  await system.natsNodes[index]![how]();
  const end = Date.now() + watchMs;
  while (Date.now() < end) {
    await Bun.sleep(50);
    const now = Date.now();
    await Promise.all(
      pages.map(async (p, i) => {
        const frames = (await readHook(p))!.framesDetected;
        if (frames !== last[i]!.frames) last[i] = { frames, at: now };
        gaps[i] = Math.max(gaps[i]!, now - last[i]!.at);
      }),
    );
  }
  const streaming = await Promise.all(pages.map(async (p) => (await readHook(p))!.status === "streaming"));
  return { gaps, streaming };
}

describe("a three-node NATS cluster under the services", () => {
  test(`SIGKILL the generator's node, then media's: ${VIEWERS} viewers resume without a reload; a new viewer starts after`, async () => {
    for (let i = 0; i < VIEWERS; i++) pages.push(await viewer());
    const generatorNode = await natsNodeOf(system.natsNodes, "generator");
    expect(generatorNode).toBeGreaterThanOrEqual(0);
    const first = await killAndWatch(generatorNode);
    const mediaNode = await natsNodeOf(system.natsNodes, "media");
    const second = mediaNode >= 0 && mediaNode !== generatorNode ? await killAndWatch(mediaNode) : undefined;
    const f = (g: number[]) => `p50 ${quantile(g, 0.5).toFixed(0)} ms, max ${Math.max(...g)} ms (${g.join(", ")})`;
    console.log(`NATS node ${generatorNode} (the generator's) killed: gaps ${f(first.gaps)}; then node ${mediaNode} (media's): ${second ? `gaps ${f(second.gaps)}` : "the same node"}`);
    expect(first.streaming).toEqual(pages.map(() => true));
    if (second) expect(second.streaming).toEqual(pages.map(() => true));
    for (const gap of [...first.gaps, ...(second?.gaps ?? [])]) expect(gap).toBeLessThan(6000); // resumed within the watch
    const late = await viewer();
    expect((await readHook(late))!.status).toBe("streaming");
  }, 180_000);

  test("rolling restart of the cluster: each node in turn gets SIGTERM and comes back; the viewers stream on throughout", async () => {
    const routed = async () => {
      for (let i = 0; i < 100 && (await Promise.all(system.natsNodes.map(natsRoutes))).some((r) => r < system.natsNodes.length - 1); i++) await Bun.sleep(100);
    };
    // the nodes the test above killed come back (the one still up is left alone), and every viewer streams first
    for (const node of system.natsNodes) if (!(await natsRoutes(node).then(() => true, () => false))) await node.restart();
    await routed();
    await Promise.all(pages.map((p) => waitForHook(p, "streaming before the rolling restart", (h) => h.status === "streaming", 30_000)));
    const gaps: number[] = [];
    const resumesBefore = await Promise.all(pages.map(async (p) => (await readHook(p))!.resumes));
    for (const [i, node] of system.natsNodes.entries()) {
      const step = await killAndWatch(i, 3000, "stop");
      gaps.push(...step.gaps);
      // every viewer streams (on its own, or after a reconnect it made by itself) before the next node goes
      await Promise.all(pages.map((p) => waitForHook(p, `streaming after node ${i}`, (h) => h.status === "streaming", 20_000)));
      await node.restart();
      await routed();
    }
    const comebacks = (await Promise.all(pages.map(async (p, i) => (await readHook(p))!.resumes - resumesBefore[i]!))).reduce((a, b) => a + b, 0);
    console.log(`NATS rolling restart (SIGTERM, node by node): gaps without a new detected frame p50 ${quantile(gaps, 0.5).toFixed(0)} ms, max ${Math.max(...gaps)} ms; the pages reconnected ${comebacks} times`);
    for (const gap of gaps) expect(gap).toBeLessThan(3000);
  }, 180_000);
});
