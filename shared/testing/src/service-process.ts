/**
 * A ballstream process started by a test: its output is kept (for the failure message), it is stopped with a
 * signal and its exit code awaited within a bound, and a test runner that dies takes it along.
 */
import type { Subprocess } from "bun";

/** A running child process of the test. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr, last 200 kB). */
  output(): string;
  /** Resolves with the exit code, or null if it has not exited within `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | null>;
  /** Sends `signal` and resolves with the exit code (null if still running after `timeoutMs`; it is then killed). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

const MAX_OUTPUT = 200_000;

/** Spawns `cmd` in `cwd` with `env` added to this process's environment. */
export function spawnService(name: string, cmd: string[], cwd: string, env: Record<string, string>): ServiceProcess {
  let text = "";
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      text = (text + decoder.decode(next.value, { stream: true })).slice(-MAX_OUTPUT);
    }
  };
  const child: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(cmd, {
    cwd,
    env: { ...process.env, LOG_FORMAT: "json", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  void keep(child.stdout);
  void keep(child.stderr);
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void child.exited.then(() => process.off("exit", killOnExit));

  const exited = async (timeoutMs: number): Promise<number | null> => {
    const timeout = Bun.sleep(timeoutMs).then(() => null);
    return Promise.race([child.exited, timeout]);
  };
  return {
    name,
    pid: child.pid,
    output: () => text,
    exited,
    stop: async (signal = "SIGTERM", timeoutMs = 10_000) => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const code = await exited(timeoutMs);
      if (code === null) {
        child.kill("SIGKILL");
        await child.exited;
      }
      return code;
    },
  };
}
