/**
 * The media service on its own, against real NATS: `NATS_URL=nats://host:4222 bun src/main.ts`. Environment:
 * NATS_URL (required), METRICS_PORT (0 picks a free one), LOG_LEVEL, and the media settings read by
 * `mediaConfigFromEnv` (FFMPEG_PATH, ICE_*, HEARTBEAT_TIMEOUT_MS, KEYFRAME_INTERVAL_S, RTP_MAX_PAYLOAD).
 * SIGINT/SIGTERM close every session (peer connections, encoders) and drain the NATS connection.
 */
import {
  DEFAULT_METRICS_PORTS,
  collectProcessMetrics,
  connectNatsBus,
  createLogger,
  defaultRegistry,
  intEnv,
  onShutdownSignal,
  serveMetrics,
  stringEnv,
} from "@ballstream/shared";
import { mediaConfigFromEnv, startMedia } from "./mod.ts";

const env = process.env;
const log = createLogger("media");
try {
  const natsUrl = stringEnv(env, "NATS_URL", "");
  if (natsUrl === "") throw new Error("NATS_URL is required (e.g. nats://127.0.0.1:4222); `bun start` runs everything in one process without NATS");
  const config = mediaConfigFromEnv(env);
  const metricsPort = intEnv(env, "METRICS_PORT", DEFAULT_METRICS_PORTS.media, 0, 65535);
  const bus = await connectNatsBus({ url: natsUrl, name: "media", log });
  const media = await startMedia({ bus, log, config });
  collectProcessMetrics(defaultRegistry, "media");
  const metrics = serveMetrics({ port: metricsPort });
  log.info({ metricsPort: metrics.port, ffmpeg: media.ffmpegPath }, "media running");
  onShutdownSignal(log, async () => {
    await media.stop();
    await metrics.stop();
    await bus.drain();
  });
} catch (err) {
  log.fatal({ err }, "media could not start");
  process.exit(1);
}
