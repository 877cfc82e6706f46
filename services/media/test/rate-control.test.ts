import { describe, expect, test } from "bun:test";
import { BITRATE_DEAD_BAND, BITRATE_INCREASE, LOSS_DECREASE_INTERVAL_MS, LOSS_HIGH, LOSS_INCREASE, LOSS_INCREASE_INTERVAL_MS, LOSS_LOW, LOSS_MIN_PACKETS, LossBasedEstimate, bitrateChange, targetFromRemb, vbvArgs } from "../src/rate-control.ts";

describe("bitrateChange", () => {
  test("changes within the dead band are ignored; beyond it a decrease is 'down', an increase 'up'", () => {
    expect(BITRATE_DEAD_BAND).toBe(0.15);
    expect(bitrateChange(1000, 1000)).toBeNull();
    expect(bitrateChange(1000, 860)).toBeNull();
    expect(bitrateChange(1000, 1140)).toBeNull();
    expect(bitrateChange(1000, 840)).toBe("down");
    expect(bitrateChange(1000, 1160)).toBe("up");
    expect(bitrateChange(1000, 1040, 0.02)).toBe("up");
  });
});

describe("vbvArgs", () => {
  test("maxrate is the target, bufsize one frame of it up to 30 fps, 33 ms of it above", () => {
    expect(vbvArgs(2000, 30)).toEqual(["-maxrate", "2000k", "-bufsize", "67k"]);
    expect(vbvArgs(600, 10)).toEqual(["-maxrate", "600k", "-bufsize", "60k"]);
    expect(vbvArgs(600, 120)).toEqual(["-maxrate", "600k", "-bufsize", "20k"]);
    expect(vbvArgs(10, 30)[3]).toBe("1k");
  });
});

describe("targetFromRemb", () => {
  const limits = { maxKbps: 2000, minKbps: 150 };
  test("a sender using its budget follows the estimate (95 % of it), down and up, within the limits", () => {
    expect(targetFromRemb(2000, 878, 1574, limits)).toBe(834);
    expect(targetFromRemb(790, 1011, 682, limits)).toBe(960);
    expect(targetFromRemb(2000, 100, 1500, limits)).toBe(150);
    expect(targetFromRemb(2000, 5000, 1900, limits)).toBe(2000);
  });

  test("an app-limited sender (under half its target) climbs back stepwise to the ceiling, whatever REMB says", () => {
    expect(targetFromRemb(2000, 136, 141, limits)).toBe(2000); // Chromium's REMB for a ball: its own rate
    expect(targetFromRemb(800, 300, 200, limits)).toBe(800 * BITRATE_INCREASE);
    expect(targetFromRemb(1800, 300, 200, limits)).toBe(2000);
  });
});

describe("LossBasedEstimate", () => {
  const limits = { maxKbps: 2000, minKbps: 150 };
  /** Reports of 25 packets each (enough to count), `at` ms apart, from sequence 1000. */
  function reporter(e: LossBasedEstimate) {
    let seq = 1000;
    e.report(0, seq, -1); // the first report only sets the sequence
    return (loss: number, at: number, packets = 25) => e.report(loss, (seq += packets), at);
  }

  test("GCC's loss-based rule: falls by half the loss above 10 %, grows 8 % below 2 %, holds between; starts at the ceiling", () => {
    expect([LOSS_LOW, LOSS_HIGH, LOSS_INCREASE, LOSS_DECREASE_INTERVAL_MS, LOSS_INCREASE_INTERVAL_MS, LOSS_MIN_PACKETS]).toEqual([0.02, 0.1, 1.08, 300, 1000, 20]);
    const e = new LossBasedEstimate(limits);
    const report = reporter(e);
    expect(e.kbps).toBe(2000);
    expect(report(0.2, 0)).toBe(1800);
    expect(report(0.1, 1000)).toBe(1800);
    expect(report(0.05, 2000)).toBe(1800);
    expect(report(0.5, 3000)).toBe(1350);
    expect(report(0.01, 4000)).toBe(1458);
    expect(report(0, 5000)).toBe(1575);
  });

  test("a burst of lossy reports moves it once per 300 ms, growth once a second", () => {
    const e = new LossBasedEstimate(limits);
    const report = reporter(e);
    for (let t = 0; t < 300; t += 25) report(0.6, t); // twelve reports in 0.3 s, as Chromium sends at the start
    expect(e.kbps).toBe(1400);
    report(0.6, 300);
    expect(e.kbps).toBe(980);
    for (let t = 400; t < 1400; t += 200) report(0, t);
    expect(e.kbps).toBe(1058); // 400 and then not again before 1400
  });

  test("reports are pooled until they cover 20 packets: one loss in 6 packets is not 17 %", () => {
    const e = new LossBasedEstimate(limits);
    const report = reporter(e);
    expect(report(0.5, 0)).toBe(1500);
    expect(report(1 / 6, 2000, 6)).toBe(1500); // alone it would read 17 %
    expect(report(0, 2200, 6)).toBe(1500);
    expect(report(0, 2400, 6)).toBe(1500);
    expect(report(0, 2600, 6)).toBe(1500); // 24 packets, 1 lost: 4 %, held
    for (let t = 3600; t < 4200; t += 200) expect(report(0, t, 6)).toBe(1500);
    expect(report(0, 4200, 6)).toBe(1620); // 24 packets, none lost
  });

  test("stays within the limits; a repeated or reordered report is ignored", () => {
    const e = new LossBasedEstimate(limits);
    const report = reporter(e);
    report(0, 0);
    expect(e.kbps).toBe(2000);
    for (let t = 0; t < 10_000; t += 300) report(1, t);
    expect(e.kbps).toBe(150);
    expect(e.report(1, 1000, 20_000)).toBe(150); // an older sequence number: ignored, not a loss of −800 packets
  });
});
