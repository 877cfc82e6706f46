/** The benchmark's handle on the light-receiver process (./light-receiver.ts): add sessions, window, report, stop. */
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { FrameCount } from "./frame-counter.ts";

/** A running light-receiver process. */
export interface LightFleet {
  readonly pid: number;
  /** Starts `count` more sessions at `fps`; resolves with the total. */
  add(count: number, fps: number): Promise<number>;
  /** Starts a new measurement window in every session. */
  window(): Promise<void>;
  /** Every session's counts since the last window. */
  report(): Promise<FrameCount[]>;
  /** Ends every session (publishes `ended`) and the process. */
  stop(): Promise<void>;
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
    add: async (count, fps) => Number((await call({ cmd: "add", count, fps }, 60_000)).sessions),
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
