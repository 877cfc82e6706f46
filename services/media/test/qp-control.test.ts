import { describe, expect, test } from "bun:test";
import { CREDIT_SHARE, DEFAULT_SLOPE, DRAIN_SHARE, MAX_QP, MAX_QP_DROP, QP_AIM, SLOPE_RANGE, QpControl } from "../src/qp-control.ts";

// 2000 kbit/s at 30 fps: 8,333 bytes a frame; the bucket is x264's one-frame VBV in whole kbit: 67 kbit.
const PER_FRAME = (2000 * 125) / 30;
const BUCKET = 67 * 125;
/** The QP `next` computes from a model (qp, bytes, slope) into `room`, before its floor and limits. */
const along = (qp: number, bytes: number, room: number, slope = DEFAULT_SLOPE) => Math.ceil(qp + (Math.log2(QP_AIM * room) - Math.log2(bytes)) / slope);

describe("QpControl", () => {
  test("the first picture, and every picture that fits, gets the quality goal (its own for IDRs)", () => {
    const c = new QpControl(2000, 30, 23, 20);
    expect(c.next(true)).toBe(20);
    c.done(true, 20, 2200);
    expect(c.next(false)).toBe(23);
    c.done(false, 23, 300);
    expect(c.next(false)).toBe(23);
    expect(c.next(true)).toBe(20);
  });

  test("a picture far over its room fills the bucket (never beyond its size) and the next goes coarse, at most to 51", () => {
    const c = new QpControl(2000, 30, 23, 20);
    c.done(false, 23, 4 * PER_FRAME);
    expect(c.room()).toBe(PER_FRAME / 8); // the bucket is full: the floor of an eighth of a frame
    expect(along(23, 4 * PER_FRAME, PER_FRAME / 8)).toBeGreaterThan(MAX_QP);
    expect(c.next(false)).toBe(MAX_QP);
  });

  test("the slope is measured from the last two QPs (within its bounds) and steers the next QP", () => {
    const c = new QpControl(2000, 30, 23, 20);
    c.done(false, 40, 100);
    c.done(false, 30, 6400); // 64× for 10 steps: 0.6 a step
    expect(c.room()).toBe(BUCKET * (1 + CREDIT_SHARE)); // two pictures under their share: the credit is full
    expect(c.next(false)).toBe(Math.max(30 - MAX_QP_DROP, along(30, 6400, c.room(), -0.6)));
    const cliff = new QpControl(2000, 30, 23, 20);
    cliff.done(false, 30, 20);
    cliff.done(false, 23, 2_000_000); // 100,000× for 7 steps (2.4 a step): beyond the steepest bound
    expect(cliff.next(false)).toBe(along(23, 2_000_000, cliff.room(), SLOPE_RANGE[0]));
    expect(along(23, 2_000_000, cliff.room(), SLOPE_RANGE[0])).toBeGreaterThan(along(23, 2_000_000, cliff.room(), -2.4)); // the bound made a difference
  });

  test("finer by at most MAX_QP_DROP a picture, however small the last one was", () => {
    const c = new QpControl(2000, 30, 23, 20);
    c.done(false, 45, 10);
    expect(c.next(false)).toBe(45 - MAX_QP_DROP);
  });

  test("an IDR is predicted from the last IDR; with none yet, from the last P-picture × 20", () => {
    const c = new QpControl(2000, 30, 23, 20);
    c.done(false, 23, 1000);
    expect(c.next(true)).toBe(along(23, 20_000, c.room()));
    c.done(true, 30, 12_000);
    expect(c.next(true)).toBe(Math.max(30 - MAX_QP_DROP, along(30, 12_000, c.room())));
  });

  test("a new cap counts from the next picture", () => {
    const d = new QpControl(2000, 30, 23, 20);
    d.done(false, 23, PER_FRAME * 0.5);
    expect(d.next(false)).toBe(23);
    d.setKbps(200);
    expect(d.kbps).toBe(200);
    expect(d.next(false)).toBeGreaterThan(23);
  });

  test("above 30 fps the bucket holds 30 fps' share of a frame: room for two 60 fps frames", () => {
    const c = new QpControl(2000, 60, 28, 25);
    expect(c.room()).toBe(BUCKET);
    c.done(false, 28, PER_FRAME); // two 60 fps frames' worth; the bucket drains DRAIN_SHARE of one
    expect(c.room()).toBeCloseTo(BUCKET - (PER_FRAME - (DRAIN_SHARE * PER_FRAME) / 2), 6);
  });

  test("pictures under their share save up at most half a bucket; a lower cap shrinks the saving with the bucket", () => {
    const c = new QpControl(2000, 30, 23, 20);
    for (let i = 0; i < 5; i++) c.done(false, 23, 100);
    expect(c.room()).toBe(BUCKET * 1.5);
    c.setKbps(1000);
    expect(c.room()).toBe(33 * 125 * 1.5); // vbv(1000, 30): 33 kbit
  });
});
