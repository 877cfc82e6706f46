/**
 * The media service on its own, against real NATS: `NATS_URL=nats://host:4222 bun src/main.ts`. Environment:
 * NATS_URL (required), METRICS_PORT (0 picks a free one),
 * METRICS_HOST (default 0.0.0.0), METRICS_TOKEN (bearer token for `/metrics`), NATS_USER + NATS_PASSWORD or NATS_TOKEN,
 * LOG_LEVEL, and the media settings read by
 * `mediaConfigFromEnv` (FFMPEG_PATH, ICE_*, HEARTBEAT_TIMEOUT_MS, KEYFRAME_INTERVAL_S, RTP_MAX_PAYLOAD).
 * SIGINT/SIGTERM close every session (peer connections, encoders) and drain the NATS connection.
 */
import { DEFAULT_METRICS_PORTS, metricsEndpointFromEnv, runStandalone } from "@ballstream/runtime";
import { mediaConfigFromEnv, startMedia } from "./mod.ts";

await runStandalone("media", () => {
  const config = mediaConfigFromEnv(process.env);
  return {
    metrics: metricsEndpointFromEnv(process.env, { host: "0.0.0.0", port: DEFAULT_METRICS_PORTS.media }),
    start: async (bus, log) => {
      const media = await startMedia({ bus, log, config });
      log.info({ encoder: media.encoder }, "encoder");
      return media;
    },
  };
});
