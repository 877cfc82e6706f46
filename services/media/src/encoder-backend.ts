/** Which encoder backend media runs (ENCODER): libx264 in the process where it loads, else an ffmpeg per session. */
import type { Logger } from "@ballstream/runtime";
import type { MediaConfig } from "./config.ts";
import type { EncoderBackend } from "./encoder.ts";
import { FfmpegBackend } from "./ffmpeg-encoder.ts";
import { resolveFfmpeg } from "./ffmpeg-path.ts";
import { LIBX264_NAMES, loadX264 } from "./x264.ts";
import { X264Threads } from "./x264-threads.ts";

/**
 * The backend `config.encoder` asks for: "x264" (throws when libx264 cannot be loaded), "ffmpeg" (throws when no
 * ffmpeg is found), "auto" (x264 where it loads, else ffmpeg). `x264Loads` is replaced by tests.
 */
export function chooseEncoderBackend(config: Pick<MediaConfig, "encoder" | "encoderThreads" | "ffmpegPath">, log: Logger, x264Loads = () => loadX264() !== null): EncoderBackend {
  const x264 = config.encoder !== "ffmpeg" && x264Loads();
  if (config.encoder === "x264" && !x264) throw new Error(`ENCODER=x264: none of ${LIBX264_NAMES.join(", ")} can be loaded (Debian: apt-get install libx264-164)`);
  return x264 ? new X264Threads(config.encoderThreads, log) : new FfmpegBackend(config.ffmpegPath ?? resolveFfmpeg().path);
}

/** The backend in a line for logs: "x264 on N threads" or "ffmpeg <path>". */
export function describeEncoder(backend: EncoderBackend): string {
  if (backend instanceof X264Threads) return `x264 in the process on ${backend.threads} threads`;
  if (backend instanceof FfmpegBackend) return `ffmpeg ${backend.ffmpegPath}`;
  return backend.name;
}
