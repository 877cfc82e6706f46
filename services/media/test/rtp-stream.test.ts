import { describe, expect, test } from "bun:test";
import { ntpTime } from "werift";
import { weriftNtpTime } from "../src/rtp-stream.ts";

describe("weriftNtpTime", () => {
  test("is werift's ntpTime() at the instant given", () => {
    const now = performance.now;
    try {
      for (const at of [1000, 1234.5678, 98_765.4321]) {
        performance.now = () => at;
        expect(weriftNtpTime(at)).toBe(ntpTime());
      }
    } finally {
      performance.now = now;
    }
  });

  test("its high word is the NTP seconds of that instant", () => {
    const at = performance.now();
    const unixSeconds = (performance.timeOrigin + at) / 1000;
    expect(Number(weriftNtpTime(at) >> 32n)).toBe(Math.floor(unixSeconds) + 2_208_988_800);
  });
});
