import { describe, expect, test } from "bun:test";
import type { LinkConditions } from "@ballstream/protocol";
import { type LinkOutcome, LinkEmulator, REAL_LINK_CLOCK, seededRandom } from "../src/link-emulator.ts";
import { FakeClock } from "./fake-clock.ts";

/** A link on a fake clock that records each packet's arrival time by its number. */
function rig(conditions: LinkConditions) {
  const clock = new FakeClock();
  const link = new LinkEmulator({ seed: 1, ...conditions }, { clock });
  const arrivals: Array<{ n: number; at: number }> = [];
  const send = (n: number, bytes = 100) => link.send(bytes, () => arrivals.push({ n, at: clock.now() }));
  return { clock, link, arrivals, send };
}

describe("seededRandom", () => {
  test("the same seed gives the same sequence, another seed another one, all in [0, 1) with mean ≈ 0.5", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.01);
  });
});

describe("LinkEmulator", () => {
  test("a perfect link delivers at once, in order, with no timer", () => {
    const { clock, link, arrivals, send } = rig({});
    for (let n = 0; n < 5; n++) expect(send(n)).toBe("delivered");
    expect(arrivals).toEqual([0, 1, 2, 3, 4].map((n) => ({ n, at: 0 })));
    expect(clock.pending).toBe(0);
    expect(link.stats).toEqual({ delivered: 5, lost: 0, queue_full: 0, blackout: 0 });
  });

  test("random loss of 5 % over 100,000 packets: 5.0 % ± 0.3 %, and the same seed loses the same packets", () => {
    const fates = (seed: number) => {
      const link = new LinkEmulator({ loss: 0.05, seed }, { clock: new FakeClock() });
      return Array.from({ length: 100_000 }, () => link.send(1200, () => {}));
    };
    const run = fates(7);
    const lost = run.filter((f) => f === "lost").length / run.length;
    expect(Math.abs(lost - 0.05)).toBeLessThan(0.003);
    expect(fates(7)).toEqual(run);
    expect(fates(8)).not.toEqual(run);
  });

  test("Gilbert–Elliott: 5 % loss in bursts of mean 4 (p = 1/76, r = 1/4) over 200,000 packets", () => {
    const ge = { p: 0.25 * 0.05 / 0.95, r: 0.25, lossBad: 1, lossGood: 0 };
    const link = new LinkEmulator({ gilbertElliott: ge, seed: 3 }, { clock: new FakeClock() });
    const fates = Array.from({ length: 200_000 }, () => link.send(1200, () => {}));
    const bursts: number[] = [];
    let run = 0;
    for (const f of fates) {
      if (f === "lost") run++;
      else if (run > 0) bursts.push(run), (run = 0);
    }
    const lossRate = fates.filter((f) => f === "lost").length / fates.length;
    const meanBurst = bursts.reduce((s, b) => s + b, 0) / bursts.length;
    expect(Math.abs(lossRate - 0.05)).toBeLessThan(0.005);
    expect(Math.abs(meanBurst - 4)).toBeLessThan(0.2);
    // Geometric burst lengths: P(burst ≥ 2) = 1 − r = 0.75; independent 5 % loss would give 0.05.
    expect(Math.abs(bursts.filter((b) => b >= 2).length / bursts.length - 0.75)).toBeLessThan(0.02);
  });

  test("Gilbert–Elliott with partial loss in each state: loss = π_bad × lossBad + π_good × lossGood", () => {
    const ge = { p: 0.1, r: 0.3, lossBad: 0.5, lossGood: 0.01 };
    const link = new LinkEmulator({ gilbertElliott: ge, seed: 5 }, { clock: new FakeClock() });
    const lost = Array.from({ length: 200_000 }, () => link.send(1200, () => {})).filter((f) => f === "lost").length / 200_000;
    expect(Math.abs(lost - (0.25 * 0.5 + 0.75 * 0.01))).toBeLessThan(0.005);
  });

  test("one-way delay: every packet arrives exactly 50 ms after it was sent, in order", () => {
    const { clock, arrivals, send } = rig({ delayMs: 50 });
    for (let n = 0; n < 4; n++) {
      clock.advance(n * 3);
      expect(send(n)).toBe("in_flight");
    }
    clock.advance(53);
    expect(arrivals).toEqual([{ n: 0, at: 50 }, { n: 1, at: 53 }]);
    clock.advance(1000);
    expect(arrivals.map((a) => a.at)).toEqual([50, 53, 56, 59]);
    expect(clock.pending).toBe(0);
  });

  test("jitter without reordering: delays within 20 ± 10 ms except to keep order, never out of order", () => {
    const { clock, arrivals, send } = rig({ delayMs: 20, jitterMs: 10 });
    for (let n = 0; n < 2000; n++) {
      clock.advance(n);
      send(n);
    }
    clock.advance(5000);
    expect(arrivals.map((a) => a.n)).toEqual(Array.from({ length: 2000 }, (_, n) => n));
    let last = 0;
    for (const { n, at } of arrivals) {
      expect(at - n).toBeGreaterThanOrEqual(10);
      expect(at - n).toBeLessThanOrEqual(30);
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
    }
  });

  test("jitter with reordering: every delay within 20 ± 10 ms, and packets 1 ms apart overtake each other", () => {
    const { clock, arrivals, send } = rig({ delayMs: 20, jitterMs: 10, reorder: true });
    for (let n = 0; n < 2000; n++) {
      clock.advance(n);
      send(n);
    }
    clock.advance(5000);
    expect(arrivals).toHaveLength(2000);
    for (const { n, at } of arrivals) {
      expect(at - n).toBeGreaterThanOrEqual(10);
      expect(at - n).toBeLessThanOrEqual(30);
    }
    const inversions = arrivals.filter((a, i) => i > 0 && a.n < (arrivals[i - 1] as { n: number }).n).length;
    expect(inversions).toBeGreaterThan(500);
  });

  test("a rate cap serialises: 1250-byte packets at 1 Mbit/s leave 10 ms apart, each waiting for those before it", () => {
    const outcomes: Array<[LinkOutcome, number]> = [];
    const clock = new FakeClock();
    const link = new LinkEmulator({ rateBps: 1e6 }, { clock, observer: (outcome, _bytes, queueMs) => outcomes.push([outcome, queueMs]) });
    const arrivals: number[] = [];
    for (let n = 0; n < 10; n++) link.send(1250, () => arrivals.push(clock.now()));
    expect(link.queuedBytes).toBe(12_500);
    clock.advance(1000);
    expect(arrivals).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(outcomes).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((q) => ["delivered", q]));
    expect(link.queuedBytes).toBe(0);
  });

  test("a rate cap over time: 2 Mbit/s offered to a 1 Mbit/s link delivers 1 Mbit/s and tail-drops the rest", () => {
    const clock = new FakeClock();
    const link = new LinkEmulator({ rateBps: 1e6, queueBytes: 10_000 }, { clock });
    let deliveredBytes = 0;
    for (let t = 0; t < 10_000; t += 5) {
      clock.advance(t);
      link.send(1250, () => (deliveredBytes += 1250)); // 1250 B every 5 ms = 2 Mbit/s
    }
    clock.advance(20_000);
    expect(deliveredBytes * 8).toBeGreaterThanOrEqual(9.9e6); // 10 s at 1 Mbit/s, plus the queue at the end
    expect(deliveredBytes * 8).toBeLessThanOrEqual(1e7 + 10_000 * 8);
    expect(link.stats.queue_full).toBeGreaterThan(900);
    expect(link.stats.delivered + link.stats.queue_full).toBe(2000);
  });

  test("tail drop: a 5000-byte queue holds four 1250-byte packets; the fifth is dropped, and fits once one has left", () => {
    const { clock, link, arrivals, send } = rig({ rateBps: 1e6, queueBytes: 5000 });
    expect([0, 1, 2, 3, 4].map((n) => send(n, 1250))).toEqual(["in_flight", "in_flight", "in_flight", "in_flight", "queue_full"]);
    clock.advance(10);
    expect(send(5, 1250)).toBe("in_flight"); // the first left at 10 ms
    clock.advance(1000);
    expect(arrivals).toEqual([{ n: 0, at: 10 }, { n: 1, at: 20 }, { n: 2, at: 30 }, { n: 3, at: 40 }, { n: 5, at: 50 }]);
    expect(link.stats).toEqual({ delivered: 5, lost: 0, queue_full: 1, blackout: 0 });
  });

  test("cap then delay: the propagation delay adds to the queueing delay", () => {
    const { clock, arrivals, send } = rig({ rateBps: 1e6, delayMs: 25 });
    send(0, 1250);
    send(1, 1250);
    clock.advance(1000);
    expect(arrivals).toEqual([{ n: 0, at: 35 }, { n: 1, at: 45 }]);
  });

  test("a one-shot blackout at 1 s for 500 ms drops exactly the packets sent in [1000, 1500) ms", () => {
    const { clock, link, send } = rig({ blackout: { durationMs: 500, atMs: 1000 } });
    const fates: Array<[number, string]> = [];
    for (let t = 0; t <= 3000; t += 100) {
      clock.advance(t);
      fates.push([t, send(t)]);
    }
    expect(fates.filter(([, f]) => f === "blackout").map(([t]) => t)).toEqual([1000, 1100, 1200, 1300, 1400]);
    expect(link.isDown(1499)).toBe(true);
    expect(link.isDown(1500)).toBe(false);
  });

  test("a periodic blackout: down for 200 ms every 1 s from 500 ms", () => {
    const { link } = rig({ blackout: { durationMs: 200, atMs: 500, everyMs: 1000 } });
    const down = Array.from({ length: 40 }, (_, i) => i * 100).filter((t) => link.isDown(t));
    expect(down).toEqual([500, 600, 1500, 1600, 2500, 2600, 3500, 3600]);
  });

  test("loss and blackout are counted and told to the observer with each packet's size", () => {
    const seen: Array<[LinkOutcome, number]> = [];
    const clock = new FakeClock();
    const link = new LinkEmulator({ loss: 0.5, blackout: { durationMs: 10, atMs: 0 }, seed: 9 }, { clock, observer: (o, b) => seen.push([o, b]) });
    link.send(10, () => {});
    clock.advance(10);
    for (let i = 0; i < 1000; i++) link.send(20, () => {});
    expect(seen[0]).toEqual(["blackout", 10]);
    expect(seen.filter(([o]) => o === "lost").length).toBe(link.stats.lost);
    expect(link.stats.lost + link.stats.delivered).toBe(1000);
    expect(Math.abs(link.stats.lost - 500)).toBeLessThan(60);
  });

  test("close cancels packets in flight and drops later ones", () => {
    const { clock, link, arrivals, send } = rig({ delayMs: 10 });
    send(0);
    link.close();
    expect(clock.pending).toBe(0);
    expect(send(1)).toBe("blackout");
    clock.advance(100);
    expect(arrivals).toEqual([]);
  });

  test("maxInFlightBytes bounds what a delayed link holds; room comes back as packets arrive", () => {
    const clock = new FakeClock();
    const link = new LinkEmulator({ delayMs: 100 }, { clock, maxInFlightBytes: 250 });
    const fates = [100, 100, 100].map((bytes) => link.send(bytes, () => undefined));
    expect(fates).toEqual(["in_flight", "in_flight", "queue_full"]);
    expect(link.idle).toBe(false);
    clock.advance(100);
    expect(link.idle).toBe(true);
    expect(link.send(200, () => undefined)).toBe("in_flight");
    expect(link.stats).toEqual({ delivered: 2, lost: 0, queue_full: 1, blackout: 0 });
  });

  test("the real clock delivers a delayed packet after at least its delay", async () => {
    const link = new LinkEmulator({ delayMs: 20 }, { clock: REAL_LINK_CLOCK });
    const sent = performance.now();
    const arrived = await new Promise<number>((resolve) => link.send(100, () => resolve(performance.now())));
    expect(arrived - sent).toBeGreaterThanOrEqual(19);
  });
});
