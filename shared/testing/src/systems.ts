/**
 * The two ways to run ballstream, started for a test on free ports of 127.0.0.1: the one-process default
 * (`bun scripts/start.ts`, in-process bus) and three processes over a real nats-server.
 */
import { join } from "node:path";
import { type Bus, BusError, connectNatsBus, createLogger } from "@ballstream/runtime";
import { subjects } from "@ballstream/protocol";
import { freePort as freeTcpPort, type TestNatsServer, startNatsCluster, startNatsServer } from "./nats-server.ts";
import { freeUdpPort } from "./helpers.ts";
import { waitForReady } from "./readiness.ts";
import { type ServiceProcess, spawnService } from "./service-process.ts";

/** The repository root. */
export const ROOT = join(import.meta.dir, "../../..");

/** A started deployment. */
export interface RunningSystem {
  /** The page's URL. */
  readonly url: string;
  /** The process that serves the page and the WebTransport sessions. */
  readonly server: ServiceProcess;
  /** The other processes, stopped (SIGTERM, exit 0 expected) after the server. */
  readonly others: readonly ServiceProcess[];
  /** Every `/metrics` endpoint of the system (gauges are summed across them). */
  readonly metricsUrls: readonly string[];
  /** Releases what is left (e.g. nats-server); also after a failure. */
  cleanup(): Promise<void>;
}

/** Ports and addresses of one system under test. */
async function signalingEnv(): Promise<Record<string, string>> {
  // SESSION_RESUME_SECRET: a signaling started again on the same address (respawn) can resume its pages' sessions
  return {
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(await freeTcpPort()),
    WT_PORT: String(await freeUdpPort()),
    METRICS_PORT: String(await freeTcpPort()),
    LOG_LEVEL: "info",
    SESSION_RESUME_SECRET: crypto.randomUUID(),
  };
}

/** The page at HTTP_HOST (127.0.0.1 unless the caller's environment binds another address, e.g. a veth's). */
const urlOf = (env: Record<string, string>) => `http://${env.HTTP_HOST}:${env.HTTP_PORT}/`;
/** Signaling's `/metrics`: its own listener (METRICS_PORT, on METRICS_HOST, default HTTP_HOST), not the page's port. */
const metricsUrlOf = (env: Record<string, string>) => `http://${env.METRICS_HOST ?? env.HTTP_HOST}:${env.METRICS_PORT}/metrics`;

async function startedOrStopped(processes: ServiceProcess[], ready: () => Promise<void>): Promise<void> {
  try {
    await ready();
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop("SIGKILL")));
    throw err;
  }
}

/** `bun scripts/start.ts`: generator, media and signaling in one process (`extraEnv` added to its environment). */
export async function startOneProcess(extraEnv: Record<string, string> = {}): Promise<RunningSystem> {
  const env = { ...(await signalingEnv()), ...extraEnv };
  const server = spawnService("ballstream (one process)", ["bun", "scripts/start.ts"], ROOT, env);
  await startedOrStopped([server], () => waitForReady(urlOf(env), [server]));
  return { url: urlOf(env), server, others: [], metricsUrls: [metricsUrlOf(env)], cleanup: async () => void (await server.stop("SIGKILL")) };
}

/**
 * Waits until someone answers requests on `subject`: an empty request gets a `bad_request` reply from a live
 * service and `no_responders` otherwise, so the probe starts nothing.
 */
async function waitForResponder(bus: Bus, subject: string, processes: readonly ServiceProcess[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const p of processes) {
      const code = await p.exited(0);
      if (code !== null) throw new Error(`${p.name} exited with ${code}:\n${p.output().slice(-4000)}`);
    }
    try {
      await bus.request(subject, new TextEncoder().encode("{}"), { timeoutMs: 1000 });
      return;
    } catch (err) {
      if (!(err instanceof BusError)) throw err;
    }
    await Bun.sleep(200);
  }
  throw new Error(`nobody answers on ${subject} within ${timeoutMs} ms`);
}

/** The three processes over NATS, with what a fault test needs to break and mend them. */
export interface NatsSystem extends RunningSystem {
  /** The nats-server (kill / restart it); its monitoring endpoint is on. With a cluster: its first node. */
  readonly nats: TestNatsServer;
  /** Every nats-server node (one unless a cluster was asked for); the services were given all of them as seeds. */
  readonly natsNodes: readonly TestNatsServer[];
  /**
   * Starts a generator or media process again on the same metrics port (after the test killed it), or with
   * `alongside` as one more replica on a port of its own (its /metrics joins `metricsUrls`); signaling again on
   * its same ports (after the test killed it), so pages can come back to the address they loaded.
   */
  respawn(service: "generator" | "media" | "signaling", options?: { alongside?: boolean }): Promise<ServiceProcess>;
}

/**
 * nats-server (or a cluster of `natsNodes` nodes on loopback, every service given all seeds), then generator, media
 * and signaling as separate processes (`bun run start:<service>`); `extraEnv` is added to every service's environment.
 */
export async function startOverNats(extraEnv: Record<string, string> = {}, options: { natsNodes?: number } = {}): Promise<NatsSystem> {
  const cluster = (options.natsNodes ?? 1) > 1 ? await startNatsCluster(options.natsNodes) : undefined;
  const natsNodes = cluster?.nodes ?? [await startNatsServer({ monitoring: true })];
  const nats = natsNodes[0]!;
  const natsUrl = cluster?.url ?? nats.url;
  const stopNats = () => Promise.all(natsNodes.map((n) => n.stop())).then(() => undefined);
  const env = await signalingEnv();
  const common = { NATS_URL: natsUrl, LOG_LEVEL: "info", METRICS_HOST: "127.0.0.1", ...extraEnv };
  const metricsPorts = { generator: String(await freeTcpPort()), media: String(await freeTcpPort()) };
  const spawnBackend = (service: "generator" | "media", metricsPort = metricsPorts[service]) =>
    spawnService(service, ["bun", `services/${service}/src/main.ts`], ROOT, { ...common, METRICS_PORT: metricsPort });
  const generator = spawnBackend("generator");
  const media = spawnBackend("media");
  const server = spawnService("signaling", ["bun", "services/signaling/src/main.ts"], ROOT, { ...common, ...env });
  const all = [generator, media, server];
  const probe = await connectNatsBus({ url: natsUrl, name: "e2e-probe", log: createLogger("e2e", { level: "silent" }) });
  try {
    await startedOrStopped(all, async () => {
      await waitForResponder(probe, subjects.generatorStart, all);
      await waitForResponder(probe, subjects.mediaOffer, all);
      await waitForReady(urlOf(env), all);
    });
  } catch (err) {
    await stopNats();
    throw err;
  } finally {
    await probe.drain();
  }
  const others = [generator, media];
  const metricsUrls = [metricsUrlOf(env), `http://127.0.0.1:${metricsPorts.generator}/metrics`, `http://127.0.0.1:${metricsPorts.media}/metrics`];
  return {
    url: urlOf(env),
    server,
    others,
    nats,
    natsNodes,
    metricsUrls,
    respawn: async (service, options = {}) => {
      if (service === "signaling") {
        const p = spawnService("signaling", ["bun", "services/signaling/src/main.ts"], ROOT, { ...common, ...env });
        all.push(p);
        await waitForReady(urlOf(env), [p]);
        return p;
      }
      const port = options.alongside ? String(await freeTcpPort()) : metricsPorts[service];
      if (options.alongside) metricsUrls.push(`http://127.0.0.1:${port}/metrics`);
      const p = spawnBackend(service, port);
      all.push(p);
      others[service === "generator" ? 0 : 1] = p;
      const probe = await connectNatsBus({ url: natsUrl, name: "e2e-probe", log: createLogger("e2e", { level: "silent" }) });
      try {
        await waitForResponder(probe, service === "generator" ? subjects.generatorStart : subjects.mediaOffer, [p]);
      } finally {
        await probe.drain();
      }
      return p;
    },
    cleanup: async () => {
      await Promise.all(all.map((p) => p.stop("SIGKILL")));
      await stopNats();
    },
  };
}
