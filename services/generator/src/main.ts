/**
 * The generator on its own, against real NATS: `NATS_URL=nats://host:4222 bun src/main.ts`. Environment:
 * NATS_URL (required), HEARTBEAT_TIMEOUT_MS, MAX_SESSIONS, FRAME_COMPRESSION (zstd | none; default zstd),
 * METRICS_PORT (0 picks a free one),
 * METRICS_HOST (default 0.0.0.0), METRICS_TOKEN (bearer token for `/metrics`), NATS_USER + NATS_PASSWORD or NATS_TOKEN,
 * LOG_LEVEL.
 * SIGINT/SIGTERM end every session, stop the workers and drain the NATS connection.
 */
import { DEFAULT_METRICS_PORTS, metricsEndpointFromEnv, runStandalone } from "@ballstream/runtime";
import { generatorConfigFromEnv, startGenerator } from "./mod.ts";

await runStandalone("generator", () => {
  const config = generatorConfigFromEnv(process.env);
  return {
    metrics: metricsEndpointFromEnv(process.env, { host: "0.0.0.0", port: DEFAULT_METRICS_PORTS.generator }),
    start: (bus, log) => startGenerator({ bus, log, config }),
  };
});
