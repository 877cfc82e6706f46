/** Test helpers shared by the shared package's tests. */
import type { Bus, BusMessage } from "../src/bus/bus.ts";

export { collectingLogger, waitFor } from "@ballstream/testing";

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
