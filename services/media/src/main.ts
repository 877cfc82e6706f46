/**
 * The media service on its own, against real NATS: `NATS_URL=nats://host:4222 bun src/main.ts`. Environment:
 * NATS_URL (required), METRICS_PORT (0 picks a free one), LOG_LEVEL, and the media settings read by
 * `mediaConfigFromEnv` (FFMPEG_PATH, ICE_*, HEARTBEAT_TIMEOUT_MS, KEYFRAME_INTERVAL_S, RTP_MAX_PAYLOAD).
 * SIGINT/SIGTERM close every session (peer connections, encoders) and drain the NATS connection.
 */
import { DEFAULT_METRICS_PORTS, intEnv, runStandalone } from "@ballstream/shared";
import { mediaConfigFromEnv, startMedia } from "./mod.ts";

await runStandalone("media", () => {
  const config = mediaConfigFromEnv(process.env);
  return {
    metricsPort: intEnv(process.env, "METRICS_PORT", DEFAULT_METRICS_PORTS.media, 0, 65535),
    start: async (bus, log) => {
      const media = await startMedia({ bus, log, config });
      log.info({ ffmpeg: media.ffmpegPath }, "encoder binary");
      return media;
    },
  };
});
