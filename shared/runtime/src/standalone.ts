/** The standalone entry point every service shares when it runs alone against real NATS. */
import type { Bus } from "./bus/bus.ts";
import { connectNatsBus, natsAuthFromEnv } from "./bus/nats-bus.ts";
import { stringEnv } from "./config.ts";
import { guardProcess, onShutdownSignal } from "./lifecycle.ts";
import { type Logger, createLogger } from "./log.ts";
import { type MetricsEndpoint, collectProcessMetrics, defaultRegistry, serveMetrics } from "./metrics.ts";

/** What a service must offer to be run standalone. */
export interface StoppableService {
  /** Ends every session of the service; does not drain the bus. */
  stop(): Promise<void>;
}

/** What a service's `main.ts` hands {@link runStandalone} once its settings are read. */
export interface StandalonePlan {
  /** Where to serve `/metrics` (its own listener, see {@link metricsEndpointFromEnv}); omit it when the service serves it itself. */
  readonly metrics?: MetricsEndpoint;
  /** Starts the service on the connected bus. */
  start(bus: Bus, log: Logger): Promise<StoppableService>;
}

/**
 * Runs `service` alone: guards the process ({@link guardProcess}), reads `NATS_URL` (required) and the NATS
 * credentials ({@link natsAuthFromEnv}), lets `plan` read and validate the service's own settings
 * (throwing ends the process with that message), records process metrics, connects to NATS, starts the service,
 * serves `/metrics` (and `/healthz`, `/readyz`) if asked, and on SIGINT/SIGTERM fails `/readyz`, stops the service,
 * the metrics server and drains NATS, then
 * exits 0. Any failure before that logs a fatal line and exits 1.
 */
export async function runStandalone(service: string, plan: (log: Logger) => StandalonePlan, env: Record<string, string | undefined> = process.env): Promise<void> {
  const log = createLogger(service);
  guardProcess(log);
  try {
    const natsUrl = stringEnv(env, "NATS_URL", "");
    if (natsUrl === "") throw new Error("NATS_URL is required (e.g. nats://127.0.0.1:4222); `bun start` runs everything in one process without NATS");
    const { metrics: metricsEndpoint, start } = plan(log);
    collectProcessMetrics(defaultRegistry, service);
    const bus = await connectNatsBus({ url: natsUrl, name: service, log, auth: natsAuthFromEnv(env) });
    const running = await start(bus, log);
    let draining = false;
    const metrics = metricsEndpoint === undefined ? undefined : serveMetrics({ ...metricsEndpoint, ready: () => !draining });
    onShutdownSignal(log, async () => {
      draining = true; // /readyz fails while the service hands its sessions over
      await running.stop();
      await metrics?.stop();
      await bus.drain();
    }, 3000);
    log.info(metrics ? { metricsPort: metrics.port } : {}, `${service} running`);
  } catch (err) {
    log.fatal({ err }, `${service} could not start`);
    process.exit(1);
  }
}
