import { describe, expect, test } from "bun:test";
import { CAPTURE_LIMITS, captureProblems, ffmpegArgs, framesDue } from "../lib/capture.ts";

describe("ffmpegArgs", () => {
  test("JPEG frames from stdin at a constant rate to H.264 yuv420p MP4 with faststart", () => {
    const a = ffmpegArgs("out.mp4", 25);
    expect(a.slice(a.indexOf("-framerate"), a.indexOf("-framerate") + 2)).toEqual(["-framerate", "25"]);
    expect(a).toContain("libx264");
    expect(a.slice(a.indexOf("-pix_fmt"), a.indexOf("-pix_fmt") + 2)).toEqual(["-pix_fmt", "yuv420p"]);
    expect(a.slice(a.indexOf("-movflags"), a.indexOf("-movflags") + 2)).toEqual(["-movflags", "+faststart"]);
    expect(a.at(-1)).toBe("out.mp4");
  });
});

describe("framesDue", () => {
  test("keeps real time: one frame at 0 ms, then one per period, catching up after a gap", () => {
    expect(framesDue(0, 25, 0)).toBe(1);
    expect(framesDue(39, 25, 1)).toBe(0);
    expect(framesDue(40, 25, 1)).toBe(1);
    expect(framesDue(1000, 25, 1)).toBe(25);
    expect(framesDue(100, 25, 10)).toBe(0);
  });
});

describe("captureProblems", () => {
  const good = { streams: [{ codec_type: "video", codec_name: "h264", pix_fmt: "yuv420p" }], format: { duration: "20.04", size: "1200000" } };
  test("a good capture has none", () => {
    expect(captureProblems(good)).toEqual([]);
  });
  test("names every problem", () => {
    expect(captureProblems({})).toEqual(["no video stream"]);
    const bad = captureProblems({ streams: [{ codec_type: "video", codec_name: "mjpeg", pix_fmt: "yuvj420p" }], format: { duration: "3", size: String(CAPTURE_LIMITS.maxBytes) } });
    expect(bad).toHaveLength(4);
    expect(bad.join(" ")).toContain("not h264");
    expect(bad.join(" ")).toContain("less than 15 s");
  });
});
