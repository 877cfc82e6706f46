/** The send-side pacer with real timers: order, byte-rate spacing (lower bounds only), backlog, keyframes. */
import { describe, expect, test } from "bun:test";
import { Pacer } from "../src/pacer.ts";

interface TestFrame {
  readonly id: number;
  readonly keyframe: boolean;
  readonly packets: number;
}

function pacer(bytesPerMs: number) {
  const sent: Array<{ frame: number; index: number; atMs: number }> = [];
  const p = new Pacer<TestFrame, { frame: number; index: number }>({
    packetize: (f) => Array.from({ length: f.packets }, (_, index) => ({ frame: f.id, index })),
    bytes: () => 1000,
    send: (packet) => sent.push({ ...packet, atMs: performance.now() }),
    bytesPerMs: () => bytesPerMs,
    now: () => performance.now(),
  });
  return { p, sent };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await Bun.sleep(2);
  expect(cond()).toBe(true);
}

describe("Pacer", () => {
  test("the first packet of an idle pacer goes at once; the rest are spaced by their bytes at the rate", async () => {
    const { p, sent } = pacer(100); // 1000-byte packets: one per 10 ms
    const t0 = performance.now();
    p.push({ id: 1, keyframe: true, packets: 4 });
    expect(sent).toHaveLength(1); // synchronously
    expect(p.backlogged).toBe(false);
    await until(() => sent.length === 4);
    expect(sent.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    for (const [i, s] of sent.entries()) expect(s.atMs - t0).toBeGreaterThanOrEqual(i * 10 - 1);
    expect(p.stats).toEqual({ framesSent: 1, framesSuperseded: 0, packetsSent: 4 });
  });

  test("a frame behind the one being sent makes it backlogged; a keyframe discards waiting frames, never the one sending", async () => {
    const { p, sent } = pacer(50); // 20 ms a packet
    p.push({ id: 1, keyframe: false, packets: 3 });
    p.push({ id: 2, keyframe: false, packets: 1 });
    p.push({ id: 3, keyframe: false, packets: 1 });
    expect(p.backlogged).toBe(true);
    p.push({ id: 4, keyframe: true, packets: 2 });
    await until(() => sent.length === 5);
    expect(sent.map((s) => s.frame)).toEqual([1, 1, 1, 4, 4]);
    expect(p.backlogged).toBe(false);
    expect(p.stats).toEqual({ framesSent: 2, framesSuperseded: 2, packetsSent: 5 });
  });

  test("stop() drops what is held and sends nothing more", async () => {
    const { p, sent } = pacer(10);
    p.push({ id: 1, keyframe: true, packets: 3 });
    p.stop();
    p.push({ id: 2, keyframe: true, packets: 1 });
    await Bun.sleep(250);
    expect(sent).toHaveLength(1);
  });
});
