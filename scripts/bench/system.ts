/**
 * The system under test, started with the e2e harness (e2e/harness/systems.ts) in either mode, plus what the
 * benchmark needs beyond the harness: each process tree to measure, the `/metrics` endpoints, and the NATS URL
 * for the light receivers.
 */
import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../e2e/harness/browser.ts";
import { startOneProcess, startOverNats } from "../../e2e/harness/systems.ts";
import type { RunningSystem } from "../../e2e/harness/viewer-scenario.ts";
import { type ProcStat, allProcStats, descendantsOf } from "./proc.ts";
import type { Mode } from "./results.ts";

/** A started system. */
export interface BenchSystem {
  readonly mode: Mode;
  readonly url: string;
  /** Process trees to measure: name → root pid. */
  readonly trees: ReadonlyArray<readonly [string, number]>;
  /** `/metrics` URLs of the services (one in one-process mode). */
  readonly metricsUrls: readonly string[];
  /** The NATS server's URL (null in one-process mode). */
  readonly natsUrl: string | null;
  readonly running: RunningSystem;
}

/** The `metricsPort` a standalone service logged at start (its METRICS_PORT=0 picked a free one). */
export function loggedMetricsPort(output: string): number | null {
  const m = /"metricsPort":(\d+)/.exec(output);
  return m ? Number(m[1]) : null;
}

/** The `listen` address of a nats-server config file's text, as a `nats://` URL. */
export function natsUrlFromConfig(config: string): string | null {
  const m = /^\s*listen:\s*"?([^"\s]+)"?/m.exec(config);
  return m ? `nats://${m[1]}` : null;
}

/** The first process below this one whose command name starts with `prefix` and whose parent's does not. */
export function treeRoot(prefix: string, stats: readonly ProcStat[] = allProcStats()): number | null {
  const below = descendantsOf(process.pid, stats);
  const byPid = new Map(below.map((s) => [s.pid, s]));
  const root = below.find((s) => s.comm.startsWith(prefix) && !byPid.get(s.ppid)?.comm.startsWith(prefix));
  return root?.pid ?? null;
}

async function waitFor<T>(what: string, get: () => T | null, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what} not found within ${timeoutMs} ms`);
    await Bun.sleep(100);
  }
}

/** Starts ballstream in `mode` on free ports of 127.0.0.1. */
export async function startBenchSystem(mode: Mode): Promise<BenchSystem> {
  if (mode === "one-process") {
    const running = await startOneProcess();
    return { mode, url: running.url, trees: [["ballstream", running.server.pid]], metricsUrls: [`${running.url}metrics`], natsUrl: null, running };
  }
  // Children inherit this: generator and media serve /metrics on free ports (and log them) instead of fixed ones.
  process.env.METRICS_PORT = "0";
  const running = await startOverNats();
  try {
    const [generator, media] = running.others;
    const natsPid = await waitFor("nats-server", () => treeRoot("nats-server"));
    const config = readFileSync(`/proc/${natsPid}/cmdline`, "utf8").split("\0").find((a) => a.endsWith(".conf"));
    const natsUrl = config ? natsUrlFromConfig(readFileSync(config, "utf8")) : null;
    if (!natsUrl) throw new Error("cannot tell the nats-server's address");
    const ports = await Promise.all(running.others.map((p) => waitFor(`${p.name} metrics port`, () => loggedMetricsPort(p.output()))));
    return {
      mode,
      url: running.url,
      trees: [
        ["generator", generator!.pid],
        ["media", media!.pid],
        ["signaling", running.server.pid],
        ["nats-server", natsPid],
      ],
      metricsUrls: [...ports.map((p) => `http://127.0.0.1:${p}/metrics`), `${running.url}metrics`],
      natsUrl,
      running,
    };
  } catch (err) {
    await running.cleanup();
    throw err;
  }
}

/** Headless Chromium (the harness's flags) and the pid of its process tree. */
export async function startBrowser(): Promise<{ browser: Browser; pid: number }> {
  const browser = await launchChromium();
  const pid = await waitFor("chromium process", () => treeRoot("chrom"));
  return { browser, pid };
}
