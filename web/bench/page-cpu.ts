/**
 * CPU of the page in headless Chromium, per Chromium process type (renderer, GPU, …), from `/proc`, plus the
 * renderer's own accounting (CDP `Performance.getMetrics`: script, layout, style time) over the same window.
 *
 * Usage:
 *   cd web && bun bench/page-cpu.ts [page URL] [seconds]
 * With a URL it measures that running ballstream (20 s a run, 2 runs per fps); without one it starts the
 * one-process system itself on free ports (10 s, 1 run: what `bun run bench` runs).
 * Env: FPS (comma list, default "30,60"), RUNS, QUERY (extra query string, e.g. "speed=400").
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import type { CDPSession } from "playwright-core";
import { launchChromium, startOneProcess, allProcStats, clockTicksPerSecond, corePercent, descendantsOf } from "@ballstream/testing";
import { waitForHook } from "../testing/hook-reader.ts";

const given = process.argv[2];
const system = given ? undefined : await startOneProcess();
const url = given ?? system!.url;
const seconds = Number(process.argv[3] ?? (given ? 20 : 10));
const fpsList = (process.env.FPS ?? "30,60").split(",").map(Number);
const runs = Number(process.env.RUNS ?? (given ? 2 : 1));
const extraQuery = process.env.QUERY ?? "";
const hz = clockTicksPerSecond();
const METRICS = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "LayoutCount", "RecalcStyleCount"] as const;

/** Chromium's process type from its command line (`--type=renderer`, …; none = the browser process). */
function processType(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]/) as string[];
    const type = args.find((a) => a.startsWith("--type="))?.slice(7) ?? "browser";
    const sub = args.find((a) => a.startsWith("--utility-sub-type="))?.slice(19);
    return sub ? `${type}:${sub.split(".").at(-1)}` : type;
  } catch {
    return "gone";
  }
}

/** CPU ticks of this process's descendants (the Chromium tree), by process type. */
function ticksByType(): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of descendantsOf(process.pid, allProcStats())) {
    const type = processType(s.pid);
    out.set(type, (out.get(type) ?? 0) + s.utime + s.stime + s.childTime);
  }
  return out;
}

async function cdpMetrics(session: CDPSession): Promise<Map<string, number>> {
  const { metrics } = (await session.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] };
  return new Map(metrics.map((m) => [m.name, m.value]));
}

const browser = await launchChromium();
try {
  for (const fps of fpsList) {
    for (let run = 1; run <= runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Performance.enable");
      await page.goto(`${url}?fps=${fps}${extraQuery ? `&${extraQuery}` : ""}`);
      await waitForHook(page, "streaming", (h) => h.status === "streaming" && h.reportsReceived > 30, 30_000);
      await Bun.sleep(3000);
      const m0 = await cdpMetrics(cdp);
      const t0 = ticksByType();
      const start = performance.now();
      await Bun.sleep(seconds * 1000);
      const elapsed = (performance.now() - start) / 1000;
      const t1 = ticksByType();
      const m1 = await cdpMetrics(cdp);
      const load = loadavg()[0].toFixed(2);
      const cpu = [...t1].map(([type, ticks]) => `${type} ${corePercent(ticks - (t0.get(type) ?? 0), elapsed, hz).toFixed(1)}`);
      const total = [...t1].reduce((sum, [type, ticks]) => sum + ticks - (t0.get(type) ?? 0), 0);
      const perf = METRICS.map((name) => {
        const d = (m1.get(name) ?? 0) - (m0.get(name) ?? 0);
        return name.endsWith("Count") ? `${name} ${(d / elapsed).toFixed(1)}/s` : `${name} ${((100 * d) / elapsed).toFixed(1)}%`;
      });
      console.log(`fps ${fps} run ${run} (${elapsed.toFixed(1)} s, load ${load}): CPU % of a core: total ${corePercent(total, elapsed, hz).toFixed(1)}; ${cpu.join("; ")}`);
      console.log(`  renderer main thread: ${perf.join("; ")}`);
      await context.close();
    }
  }
} finally {
  await browser.close();
  await system?.cleanup();
}
