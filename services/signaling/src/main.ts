/**
 * Standalone signaling against real NATS (`NATS_URL` required): `bun run start:signaling`. Settings from the
 * environment (see `signalingConfigFromEnv`); its own and the process metrics at `GET /metrics`
 * on METRICS_PORT (default 9466, never the page's port; METRICS_TOKEN asks scrapers for a bearer token).
 * SIGINT/SIGTERM close every viewer session, drain NATS, exit 0.
 */
import { runStandalone } from "@ballstream/runtime";
import { signalingConfigFromEnv, startSignaling } from "./mod.ts";

await runStandalone("signaling", () => {
  const config = signalingConfigFromEnv(process.env);
  return {
    start: async (bus, log) => {
      const signaling = await startSignaling({ bus, log, config });
      log.info(`open ${signaling.httpUrl}`);
      return signaling;
    },
  };
});
