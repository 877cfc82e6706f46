/** The benchmark's handle on the light-receiver process (./light-receiver.ts): add sessions or channel viewers, window, report, stop. */
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { FrameCount } from "./frame-counter.ts";
import type { AddReply } from "./light-receiver.ts";

/** Joins in flight at once: werift's DTLS handshakes and media's answers queue behind each other beyond this. */
export const JOIN_CONCURRENCY = 20;

/** A running light-receiver process. */
export interface LightFleet {
  readonly pid: number;
  /** Starts `count` more private sessions at `fps`; resolves with the total; rejects if any did not start. */
  add(count: number, fps: number): Promise<number>;
  /** Joins `count` more viewers to the channel whose source id is `source` (failed joins are in the reply, not thrown). */
  join(count: number, source: string): Promise<AddReply>;
  /** Starts channel `source`'s encoder and generator on the bus, as signaling does for a first viewer (no page needed). */
  startSource(source: string, fps: number): Promise<void>;
  /** Starts a new measurement window in every session. */
  window(): Promise<void>;
  /** Every session's counts since the last window. */
  report(): Promise<FrameCount[]>;
  /** Ends every session (publishes `ended`) and the process. */
  stop(): Promise<void>;
}

/** How long `count` joins may take: {@link JOIN_CONCURRENCY} at a time, each within its first-frame timeout (10 s) plus its requests. */
export function addTimeoutMs(count: number): number {
  return 30_000 + Math.ceil(count / JOIN_CONCURRENCY) * 15_000;
}

/** Starts the light-receiver process against the NATS server at `natsUrl`. */
export function startLightFleet(natsUrl: string): LightFleet {
  const child: Subprocess<"pipe", "pipe", "inherit"> = Bun.spawn(["bun", join(import.meta.dir, "light-receiver.ts")], {
    env: { ...process.env, NATS_URL: natsUrl, LOG_LEVEL: "warn" },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const nextLine = async (timeoutMs: number): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    while (!buffered.includes("\n")) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("light receivers did not answer in time");
      const next = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)]);
      if (next === null) continue;
      if (next.done) throw new Error(`light receivers exited (${child.exitCode})`);
      buffered += decoder.decode(next.value, { stream: true });
    }
    const nl = buffered.indexOf("\n");
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    return JSON.parse(line) as Record<string, unknown>;
  };
  let queue: Promise<unknown> = Promise.resolve();
  const call = (command: object, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const run = queue.then(async () => {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      child.stdin.flush();
      const r = await nextLine(timeoutMs);
      if (r.ok !== true) throw new Error(`light receivers: ${String(r.error)}`);
      return r;
    });
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    pid: child.pid,
    add: async (count, fps) => {
      const r = (await call({ cmd: "add", count, fps, concurrency: JOIN_CONCURRENCY }, addTimeoutMs(count))) as unknown as AddReply;
      if (r.failures.length > 0) throw new Error(`${r.failures.length} of ${count} sessions did not start: ${r.failures[0]}`);
      return r.sessions;
    },
    join: async (count, source) => (await call({ cmd: "add", count, channel: source, concurrency: JOIN_CONCURRENCY }, addTimeoutMs(count))) as unknown as AddReply,
    startSource: async (source, fps) => void (await call({ cmd: "source", channel: source, fps })),
    window: async () => void (await call({ cmd: "window" })),
    report: async () => (await call({ cmd: "report" })).sessions as FrameCount[],
    stop: async () => {
      await call({ cmd: "stop" }).catch(() => undefined);
      const exited = await Promise.race([child.exited, Bun.sleep(5000).then(() => null)]);
      if (exited === null) child.kill("SIGKILL");
      process.off("exit", killOnExit);
    },
  };
}
