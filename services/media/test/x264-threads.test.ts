/** libx264 on encoder threads: where a new session's x264 goes, what a failing x264 or a dying thread does to whom. */
import { afterEach, describe, expect, test } from "bun:test";
import { type Frame, createLogger, i420ByteLength } from "@ballstream/runtime";
import { DEFAULT_ENCODER_OPTIONS, type EncodedFrame, type EncoderSink, SessionEncoder } from "../src/encoder.ts";
import { X264Threads } from "../src/x264-threads.ts";
import { frame, until } from "./encoder-helpers.ts";

const log = createLogger("x264-threads-test", { level: "silent" });
const FORMAT = { width: 160, height: 120, fps: 30 };
const SETTINGS = { keyframeIntervalS: 2, bitrateKbps: 2000, intraRefresh: false };
const pools: X264Threads[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function pool(threads: number, script?: string, idleMs?: number): X264Threads {
  const p = new X264Threads(threads, log, script, idleMs);
  pools.push(p);
  return p;
}

function sink() {
  const units: boolean[] = [];
  const exits: string[] = [];
  const s: EncoderSink = { unit: (u) => units.push(u.keyframe), truncated: () => undefined, exit: (m) => exits.push(m) };
  return { s, units, exits };
}

describe("X264Threads", () => {
  test("in place, and at least one thread", () => {
    expect(pool(1)).toMatchObject({ name: "x264", inPlace: true, threads: 1 });
    expect(() => new X264Threads(0, log)).toThrow("at least 1");
  });

  test("threads start as they are needed; a new x264 goes to the thread with the fewest", async () => {
    const p = pool(2);
    expect(p.load).toEqual([]);
    const a = p.start(FORMAT, SETTINGS, sink().s);
    expect(p.load).toEqual([1]);
    const b = p.start(FORMAT, SETTINGS, sink().s);
    const c = p.start(FORMAT, SETTINGS, sink().s);
    expect(p.load).toEqual([2, 1]);
    await b.end();
    await c.end();
    expect(p.load).toEqual([1, 0]);
    p.start(FORMAT, SETTINGS, sink().s);
    expect(p.load).toEqual([1, 1]);
    await a.end();
  });

  test("each instance's frames come back to it, from its own x264, in order", async () => {
    const p = pool(2);
    const sinks = [sink(), sink(), sink()];
    const instances = sinks.map(({ s }) => p.start(FORMAT, SETTINGS, s));
    for (let k = 0; k < 4; k++) {
      instances.forEach((i) => i.write(frame(), false));
      await until(() => sinks.every(({ units }) => units.length === k + 1));
    }
    for (const { units, exits } of sinks) expect({ units, exits }).toEqual({ units: [true, false, false, false], exits: [] });
    instances[1]!.write(frame(), true);
    await until(() => sinks[1]!.units.length === 5);
    expect(sinks[1]!.units[4]).toBe(true);
  });

  test("one frame at a time in the shared picture: a second write before the answer throws, as does a frame larger than the format", async () => {
    const p = pool(1);
    const { s, units } = sink();
    const i = p.start(FORMAT, SETTINGS, s);
    const big = { ...frame(), pixels: new Uint8Array(FORMAT.width * FORMAT.height * 2) };
    expect(() => i.write(big, false)).toThrow("for a 28800-byte picture");
    i.write(frame(), false);
    expect(() => i.write(frame(), false)).toThrow("still on the encoder thread");
    await until(() => units.length === 1);
    i.write(frame(), false);
    await until(() => units.length === 2);
    expect(units).toEqual([true, false]);
  });

  test("a patch frame's flat region reaches its x264 as the macroblocks that did not change: a true one keeps the stream, a false one makes x264 skip what moved", async () => {
    const BG = { y: 40, u: 128, v: 128 };
    /** A 16 px square at step k on a flat picture, as a patch frame says it (its region: `claim` or the square's box). */
    const patch = (k: number, claim?: { x0: number; y0: number; x1: number; y1: number }) => {
      const pixels = new Uint8Array(i420ByteLength(FORMAT.width, FORMAT.height)).fill(BG.u).fill(BG.y, 0, FORMAT.width * FORMAT.height);
      const [x0, y0] = [8 + 8 * k, 8 + 4 * k];
      for (let y = y0; y < y0 + 16; y++) pixels.fill(220, y * FORMAT.width + x0, y * FORMAT.width + x0 + 16);
      return { ...frame(), pixels, flat: { background: BG, ...(claim ?? { x0, y0, x1: x0 + 16, y1: y0 + 16 }) } };
    };
    const stream = async (frames: Frame[]) => {
      const bytes: Buffer[] = [];
      const i = pool(1).start(FORMAT, SETTINGS, { unit: (u) => bytes.push(Buffer.concat(u.nals)), truncated: () => undefined, exit: () => undefined });
      for (const f of frames) {
        i.write(f, false);
        await until(() => bytes.length === frames.indexOf(f) + 1);
      }
      return bytes;
    };
    const steps = Array.from({ length: 8 }, (_, k) => k);
    const raw = await stream(steps.map((k) => ({ ...patch(k), flat: undefined })));
    const truth = await stream(steps.map((k) => patch(k)));
    const lie = await stream(steps.map((k) => patch(k, { x0: 150, y0: 110, x1: 160, y1: 120 })));
    expect(truth.map((b, k) => b.equals(raw[k]!))).toEqual(steps.map(() => true));
    // Not the first P-picture: the IDR before it was coded at a coarser QP, and x264 skips only where the last
    // picture's macroblock was coded at one no coarser than now.
    expect(lie[1]!.equals(raw[1]!)).toBe(true);
    expect(lie.slice(2).every((b, k) => b.length < raw[k + 2]!.length)).toBe(true);
  });

  test("an x264 that refuses its format reports an exit to its own session only; the thread serves the others", async () => {
    const p = pool(1);
    const bad = sink();
    const good = sink();
    const odd = p.start({ width: 161, height: 120, fps: 30 }, SETTINGS, bad.s);
    const fine = p.start(FORMAT, SETTINGS, good.s);
    odd.write({ ...frame(), width: 161 }, false);
    fine.write(frame(), false);
    await until(() => bad.exits.length === 1 && good.units.length === 1);
    expect(bad.exits[0]).toContain("refused to open 161x120");
    expect(good.exits).toEqual([]);
    expect(p.load).toEqual([1]);
  });

  test("a thread that dies ends its instances (each is told) and a new one takes new x264s", async () => {
    const p = pool(1, new URL("./failing-x264-thread.ts", import.meta.url).href);
    const one = sink();
    const instance = p.start(FORMAT, SETTINGS, one.s);
    instance.write(frame(), false);
    await until(() => one.units.length === 1);
    instance.write(frame(), false);
    await until(() => one.exits.length === 1);
    expect(one.exits).toEqual(["its encoder thread died"]);
    expect(p.load).toEqual([]);
    const two = sink();
    p.start(FORMAT, SETTINGS, two.s).write(frame(), false);
    await until(() => two.units.length === 1);
  });

  test("a thread left without instances ends after the idle time; one that gets a new instance in time stays", async () => {
    const p = pool(2, undefined, 100);
    const a = p.start(FORMAT, SETTINGS, sink().s);
    const b = p.start(FORMAT, SETTINGS, sink().s);
    expect(p.load).toEqual([1, 1]);
    await a.end();
    await Bun.sleep(40);
    const c = p.start(FORMAT, SETTINGS, sink().s); // to the idle thread, before its time is up
    await Bun.sleep(150);
    expect(p.load).toEqual([1, 1]);
    await b.end();
    await c.end();
    await Bun.sleep(250);
    expect(p.load).toEqual([]);
    const d = sink();
    p.start(FORMAT, SETTINGS, d.s).write(frame(), false); // a fresh thread serves the next
    await until(() => d.units.length === 1);
  });

  test("close() tells every instance and refuses new ones", async () => {
    const p = pool(2);
    const one = sink();
    p.start(FORMAT, SETTINGS, one.s);
    await p.close();
    expect(one.exits).toEqual(["the encoder threads were closed"]);
    expect(() => p.start(FORMAT, SETTINGS, sink().s)).toThrow("closed");
  });

  test("a session whose x264 keeps refusing its frames' format gives up with the reason", async () => {
    const p = pool(1);
    const fatal: string[] = [];
    const out: EncodedFrame[] = [];
    const e = new SessionEncoder({ ...DEFAULT_ENCODER_OPTIONS, backend: p, maxFailures: 2 }, log, { onFrame: (f) => out.push(f), onRestart: () => undefined, onFatal: (m) => fatal.push(m) });
    for (let i = 0; i < 100 && fatal.length === 0; i++) {
      e.encode({ ...frame(), width: 161 });
      await Bun.sleep(10);
    }
    expect(fatal[0]).toMatch(/^video encoder failed 2 times in a row: x264 refused to open 161x120/);
    expect(out).toEqual([]);
    await e.stop();
  });
});
