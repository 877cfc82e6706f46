/** Test helpers shared by the shared package's tests. */
import { Writable } from "node:stream";
import type { Bus, BusMessage } from "../src/bus/bus.ts";
import { createLogger, type Logger } from "../src/log.ts";

/** A logger that collects its JSON lines (parsed) in `lines`. */
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

/** Polls `condition` every 5 ms until it holds; throws after `timeoutMs` (generous: tests never assert timing). */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** Subscribes and collects every message received on `subject`. */
export function collect(bus: Bus, subject: string, queue?: string): BusMessage[] {
  const got: BusMessage[] = [];
  bus.subscribe(subject, (m) => got.push(m), queue === undefined ? {} : { queue });
  return got;
}

let probeSeq = 0;

/**
 * Resolves once every subscription made on `bus` so far is in force at the server: a request to a probe
 * subscribed on the same connection comes back only after the server has processed everything sent before it.
 */
export async function roundTrip(bus: Bus): Promise<void> {
  const subject = `probe.${process.pid}.${++probeSeq}`;
  const sub = bus.subscribe(subject, (m) => m.respond(new Uint8Array(0)));
  try {
    await bus.request(subject, new Uint8Array(0), { timeoutMs: 10_000 });
  } finally {
    sub.unsubscribe();
  }
}

/** `n` bytes of a repeating pattern, to check payloads arrive intact. */
export function pattern(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}
