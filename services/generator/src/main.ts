/**
 * The generator on its own, against real NATS: `NATS_URL=nats://host:4222 bun src/main.ts`. Environment:
 * NATS_URL (required), HEARTBEAT_TIMEOUT_MS, MAX_SESSIONS, FRAME_COMPRESSION (zstd | none; default zstd),
 * METRICS_PORT (0 picks a free one), LOG_LEVEL.
 * SIGINT/SIGTERM end every session, stop the workers and drain the NATS connection.
 */
import {
  DEFAULT_METRICS_PORTS,
  FRAME_COMPRESSIONS,
  type FrameCompression,
  SESSION_TIMING,
  collectProcessMetrics,
  connectNatsBus,
  createLogger,
  defaultRegistry,
  intEnv,
  onShutdownSignal,
  serveMetrics,
  stringEnv,
} from "@ballstream/shared";
import { DEFAULT_GENERATOR_CONFIG, startGenerator } from "./mod.ts";

const env = process.env;
const log = createLogger("generator");
try {
  const natsUrl = stringEnv(env, "NATS_URL", "");
  if (natsUrl === "") throw new Error("NATS_URL is required (e.g. nats://127.0.0.1:4222); `bun start` runs everything in one process without NATS");
  const frameCompression = stringEnv(env, "FRAME_COMPRESSION", "zstd");
  if (!FRAME_COMPRESSIONS.includes(frameCompression as FrameCompression)) {
    throw new Error(`FRAME_COMPRESSION must be one of ${FRAME_COMPRESSIONS.join(", ")}, got ${frameCompression}`);
  }
  const config = {
    frameCompression: frameCompression as FrameCompression,
    heartbeatTimeoutMs: intEnv(env, "HEARTBEAT_TIMEOUT_MS", SESSION_TIMING.heartbeatTimeoutMs, 100, 600_000),
    maxSessions: intEnv(env, "MAX_SESSIONS", DEFAULT_GENERATOR_CONFIG.maxSessions, 1, 1000),
  };
  const metricsPort = intEnv(env, "METRICS_PORT", DEFAULT_METRICS_PORTS.generator, 0, 65535);
  const bus = await connectNatsBus({ url: natsUrl, name: "generator", log });
  const generator = await startGenerator({ bus, log, config });
  collectProcessMetrics(defaultRegistry, "generator");
  const metrics = serveMetrics({ port: metricsPort });
  log.info({ metricsPort: metrics.port }, "generator running");
  onShutdownSignal(log, async () => {
    await generator.stop();
    await metrics.stop();
    await bus.drain();
  });
} catch (err) {
  log.fatal({ err }, "generator could not start");
  process.exit(1);
}
