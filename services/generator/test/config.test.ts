import { describe, expect, test } from "bun:test";
import { DEFAULT_GENERATOR_CONFIG, generatorConfigFromEnv } from "../src/config.ts";

describe("generatorConfigFromEnv", () => {
  test("defaults: zstd frames (NATS), the default heartbeat timeout and session cap", () => {
    expect(generatorConfigFromEnv({})).toEqual({ ...DEFAULT_GENERATOR_CONFIG, frameCompression: "zstd" });
  });
  test("reads every variable", () => {
    expect(generatorConfigFromEnv({ FRAME_COMPRESSION: "none", HEARTBEAT_TIMEOUT_MS: "800", MAX_SESSIONS: "3" })).toEqual({
      frameCompression: "none",
      heartbeatTimeoutMs: 800,
      maxSessions: 3,
    });
  });
  test("takes `patch` (the in-process default) too", () => {
    expect(DEFAULT_GENERATOR_CONFIG.frameCompression).toBe("patch");
    expect(generatorConfigFromEnv({ FRAME_COMPRESSION: "patch" }).frameCompression).toBe("patch");
  });
  test("rejects bad values naming the variable", () => {
    expect(() => generatorConfigFromEnv({ FRAME_COMPRESSION: "gzip" })).toThrow(/FRAME_COMPRESSION/);
    expect(() => generatorConfigFromEnv({ MAX_SESSIONS: "0" })).toThrow(/MAX_SESSIONS/);
    expect(() => generatorConfigFromEnv({ HEARTBEAT_TIMEOUT_MS: "fast" })).toThrow(/HEARTBEAT_TIMEOUT_MS/);
  });
});
