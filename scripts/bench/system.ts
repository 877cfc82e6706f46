/**
 * The system under test, started with the e2e harness (e2e/harness/systems.ts) in either mode, plus what the
 * benchmark needs beyond the harness: each process tree to measure, the `/metrics` endpoints, and the NATS URL
 * for the light receivers.
 */
import type { Browser } from "playwright-core";
import { launchChromium, startOneProcess, startOverNats, type ProcStat, allProcStats, descendantsOf } from "@ballstream/testing";
import type { RunningSystem } from "@ballstream/testing";
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

/** Session cap of the services under test: above the largest capacity step, so the services' defaults don't end the search. */
export const MAX_BENCH_SESSIONS = 64;

/** How long a media replica started beside the first may take to say it runs. */
const REPLICA_START_MS = 10_000;

/**
 * Starts ballstream in `mode` on free ports of 127.0.0.1, one-process mode with `env` added (the network matrix's
 * link conditions); over NATS with `mediaReplicas` media processes in the queue group (trees "media", "media 2", …).
 */
export async function startBenchSystem(mode: Mode, env: Record<string, string> = {}, mediaReplicas = 1): Promise<BenchSystem> {
  if (mode === "one-process") {
    const running = await startOneProcess(env);
    return { mode, url: running.url, trees: [["ballstream", running.server.pid]], metricsUrls: running.metricsUrls, natsUrl: null, running };
  }
  const running = await startOverNats({ MAX_SESSIONS: String(MAX_BENCH_SESSIONS) });
  try {
    const [generator, media] = running.others;
    const natsPid = await waitFor("nats-server", () => treeRoot("nats-server"));
    const replicas: Array<readonly [string, number]> = [];
    for (let n = 2; n <= mediaReplicas; n++) {
      const replica = await running.respawn("media", { alongside: true });
      await waitFor(`media replica ${n}`, () => (replica.output().includes('"media service started"') ? true : null), REPLICA_START_MS);
      replicas.push([`media ${n}`, replica.pid]);
    }
    return {
      mode,
      url: running.url,
      trees: [
        ["generator", generator!.pid],
        ["media", media!.pid],
        ...replicas,
        ["signaling", running.server.pid],
        ["nats-server", natsPid],
      ],
      metricsUrls: running.metricsUrls,
      natsUrl: running.nats.url,
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
