/**
 * The generator on its own, against real NATS: `NATS_URL=nats://host:4222 bun src/main.ts`. Environment:
 * NATS_URL (required), HEARTBEAT_TIMEOUT_MS, MAX_SESSIONS, FRAME_COMPRESSION (zstd | none; default zstd),
 * METRICS_PORT (0 picks a free one), LOG_LEVEL.
 * SIGINT/SIGTERM end every session, stop the workers and drain the NATS connection.
 */
import { DEFAULT_METRICS_PORTS, intEnv, runStandalone } from "@ballstream/shared";
import { generatorConfigFromEnv, startGenerator } from "./mod.ts";

await runStandalone("generator", () => {
  const config = generatorConfigFromEnv(process.env);
  return {
    metricsPort: intEnv(process.env, "METRICS_PORT", DEFAULT_METRICS_PORTS.generator, 0, 65535),
    start: (bus, log) => startGenerator({ bus, log, config }),
  };
});
