import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "@ballstream/runtime";
import { chooseEncoderBackend, describeEncoder } from "../src/encoder-backend.ts";
import type { EncoderBackend } from "../src/encoder.ts";
import { FfmpegBackend } from "../src/ffmpeg-encoder.ts";
import { X264Threads } from "../src/x264-threads.ts";

const log = createLogger("encoder-backend-test", { level: "silent" });
const chosen: EncoderBackend[] = [];
afterEach(async () => {
  for (const b of chosen.splice(0)) if (b instanceof X264Threads) await b.close();
});
const choose = (encoder: "auto" | "x264" | "ffmpeg", loads: boolean) => {
  const b = chooseEncoderBackend({ encoder, encoderThreads: 3, ffmpegPath: "/opt/ffmpeg" }, log, () => loads);
  chosen.push(b);
  return b;
};

describe("chooseEncoderBackend", () => {
  test("auto: libx264 in the process where it loads, else ffmpeg", () => {
    expect(choose("auto", true)).toBeInstanceOf(X264Threads);
    expect(choose("auto", false)).toBeInstanceOf(FfmpegBackend);
  });

  test("x264 asked for but not loadable is an error that says how to get it; ffmpeg is ffmpeg even where x264 loads", () => {
    expect(() => choose("x264", false)).toThrow("apt-get install libx264-164");
    expect(choose("x264", true)).toMatchObject({ threads: 3 });
    expect(choose("ffmpeg", true)).toMatchObject({ ffmpegPath: "/opt/ffmpeg" });
  });

  test("the real machine: auto finds this machine's libx264", () => {
    const b = chooseEncoderBackend({ encoder: "auto", encoderThreads: 1 }, log);
    chosen.push(b);
    expect(b.name).toBe("x264");
  });
});

describe("describeEncoder", () => {
  test("says which backend, with its threads or binary", () => {
    expect(describeEncoder(choose("x264", true))).toBe("x264 in the process on 3 threads");
    expect(describeEncoder(choose("ffmpeg", true))).toBe("ffmpeg /opt/ffmpeg");
    expect(describeEncoder({ name: "other", inPlace: true, start: () => { throw new Error("unused"); } })).toBe("other");
  });
});
