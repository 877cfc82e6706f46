/**
 * Standalone signaling against real NATS (`NATS_URL` required): `bun run start:signaling`. Settings from the
 * environment (see `signalingConfigFromEnv`); process metrics at `GET /metrics`. SIGINT/SIGTERM close every viewer
 * session, drain NATS, exit 0.
 */
import { collectProcessMetrics, connectNatsBus, createLogger, defaultRegistry, onShutdownSignal } from "@ballstream/shared";
import { signalingConfigFromEnv, startSignaling } from "./mod.ts";

const log = createLogger("signaling");
collectProcessMetrics(defaultRegistry, "signaling");
const natsUrl = process.env.NATS_URL;
if (!natsUrl) {
  log.fatal("NATS_URL is required (e.g. nats://127.0.0.1:4222); `bun start` runs everything in one process without NATS");
  process.exit(2);
}
collectProcessMetrics(defaultRegistry, "signaling");
try {
  const config = signalingConfigFromEnv(process.env);
  const bus = await connectNatsBus({ url: natsUrl, name: "signaling", log });
  const signaling = await startSignaling({ bus, log, config });
  onShutdownSignal(log, async () => {
    await signaling.stop();
    await bus.drain();
  }, 2000);
  log.info(`open ${signaling.httpUrl}`);
} catch (err) {
  log.fatal({ err }, "signaling could not start");
  process.exit(1);
}
