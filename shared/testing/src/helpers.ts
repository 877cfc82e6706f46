/** Small helpers for any package's tests (`@ballstream/testing`). */
import { Writable } from "node:stream";
import { createLogger, type Logger } from "@ballstream/runtime";

/** A debug-level logger whose JSON lines are collected (parsed) in `lines`, for asserting on what was logged. */
export function collectingLogger(service = "test"): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger(service, { level: "debug", destination }), lines };
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = socket.port;
  socket.close();
  return port;
}

/** Polls `condition` every 5 ms until it holds; throws after `timeoutMs` (be generous: tests never assert timing). */
export async function waitFor(condition: () => boolean, timeoutMs = 15_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
