/** The generator service's settings, their defaults, and reading them from the environment. */
import { type FrameCompression, FRAME_COMPRESSIONS, intEnv, stringEnv } from "@ballstream/runtime";
import { SESSION_TIMING } from "@ballstream/protocol";

/** Settings of `startGenerator`. Every field has a default. */
export interface GeneratorConfig {
  /** A session with no heartbeat for this long is ended. */
  readonly heartbeatTimeoutMs: number;
  /**
   * MAX_SESSIONS, as in every service: the most sessions this process runs at once; a start request beyond it is
   * refused (`unavailable`). 16 × 30 fps is what 2 cores carry (docs/benchmarks.md).
   */
  readonly maxSessions: number;
  /**
   * How frames carry their pixels: `patch` on the in-process bus (messages passed by reference, so nothing is
   * compressed, but the flat scene's frame is its ball's box: capture → published 0.75–0.93 → 0.48–0.52 ms at 60
   * fps, docs/generator.md), `zstd` over NATS (generatorConfigFromEnv's default: ~500× fewer bytes through the server).
   */
  readonly frameCompression: FrameCompression;
}

/** Defaults of {@link GeneratorConfig}. */
export const DEFAULT_GENERATOR_CONFIG: GeneratorConfig = {
  heartbeatTimeoutMs: SESSION_TIMING.heartbeatTimeoutMs,
  maxSessions: 16,
  frameCompression: "patch",
};

/**
 * Reads the generator's settings for a standalone run over NATS: HEARTBEAT_TIMEOUT_MS, MAX_SESSIONS and
 * FRAME_COMPRESSION (`zstd` | `none` | `patch`; default `zstd`, since frames then cross the network). Throws on bad values.
 */
export function generatorConfigFromEnv(env: Record<string, string | undefined>): GeneratorConfig {
  const frameCompression = stringEnv(env, "FRAME_COMPRESSION", "zstd");
  if (!FRAME_COMPRESSIONS.includes(frameCompression as FrameCompression)) {
    throw new Error(`FRAME_COMPRESSION must be one of ${FRAME_COMPRESSIONS.join(", ")}, got ${frameCompression}`);
  }
  return {
    frameCompression: frameCompression as FrameCompression,
    heartbeatTimeoutMs: intEnv(env, "HEARTBEAT_TIMEOUT_MS", DEFAULT_GENERATOR_CONFIG.heartbeatTimeoutMs, 100, 600_000),
    maxSessions: intEnv(env, "MAX_SESSIONS", DEFAULT_GENERATOR_CONFIG.maxSessions, 1, 10_000),
  };
}
