/**
 * What every service's metrics are made of (prom-client): registries, the `ballstream_` name prefix, buckets,
 * process metrics, and the `/metrics` listener. Each service defines its own metrics in its package
 * (`services/<name>/src/metrics.ts`) with these helpers; labels are low-cardinality by construction (values from closed
 * TypeScript unions, never session ids). Times are in seconds and distances in pixels (Prometheus base units); the
 * buckets resolve 1 ms and 1 px where the figures live (see docs/observability.md). `once` makes each service's
 * `create*Metrics(registry)` idempotent per registry, so services started several times in one process (the
 * embedded `bun start`, tests) share one set of handles.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, register } from "prom-client";
import { intEnv, stringEnv } from "./config.ts";

export type { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The registry services use unless told otherwise: prom-client's global one. */
export const defaultRegistry: Registry = register;

/** A fresh, empty registry (tests, or a process that wants its own). */
export function createRegistry(): Registry {
  return new Registry();
}

/** Prefix of every ballstream metric name. */
export const METRIC_PREFIX = "ballstream_";

/**
 * Default `METRICS_PORT` of each service: `/metrics` always has a listener of its own, never the page's port
 * (the embedded `bun start` serves every service's metrics on signaling's).
 */
export const DEFAULT_METRICS_PORTS = { generator: 9464, media: 9465, signaling: 9466 } as const;

/**
 * Bucket bounds made of linear runs: `[[from, to, step], …]` → from, from+step, …, to for each run, in order.
 * Values are rounded to 6 decimals so `0.001 * 3` prints as `0.003`.
 */
export function steppedBuckets(runs: ReadonlyArray<readonly [number, number, number]>): number[] {
  const out: number[] = [];
  for (const [from, to, step] of runs) {
    if (!(step > 0) || to < from) throw new RangeError(`bad bucket run [${from}, ${to}, ${step}]`);
    for (let i = 0; from + i * step <= to + step / 1e6; i++) {
      const bound = Math.round((from + i * step) * 1e6) / 1e6;
      if (out.length > 0 && bound <= (out.at(-1) as number)) throw new RangeError(`bucket ${bound} not increasing`);
      out.push(bound);
    }
  }
  return out;
}

/** Latency (s): 1 ms steps to 10 ms, 2 ms to 60 ms, 5 ms to 100 ms, 10 ms to 200 ms, then coarse to 5 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  ...steppedBuckets([[0.001, 0.01, 0.001], [0.012, 0.06, 0.002], [0.065, 0.1, 0.005], [0.11, 0.2, 0.01]]),
  0.25, 0.3, 0.4, 0.5, 0.75, 1, 2, 5,
];

/** Ball-centre error (px): sub-pixel below 1, 1 px steps to 10, 2 px to 30, 5 px to 100, then coarse to 1000. */
export const ERROR_BUCKETS_PX: readonly number[] = [
  0.25, 0.5,
  ...steppedBuckets([[1, 10, 1], [12, 30, 2], [35, 100, 5], [120, 200, 20]]),
  250, 300, 400, 500, 750, 1000,
];

/** Encode time of one frame (s): 0.5 ms, 1 ms steps to 10 ms, 2 ms to 30 ms, then coarse to 1 s. */
export const ENCODE_BUCKETS_S: readonly number[] = [
  0.0005,
  ...steppedBuckets([[0.001, 0.01, 0.001], [0.012, 0.03, 0.002]]),
  0.035, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1,
];

const byRegistry = new WeakMap<Registry, Map<string, unknown>>();

/** Runs `create` once per registry and key; later calls return the first result (a service registers its metrics once). */
export function once<T>(registry: Registry, key: string, create: () => T): T {
  let made = byRegistry.get(registry);
  if (!made) byRegistry.set(registry, (made = new Map()));
  if (!made.has(key)) made.set(key, create());
  return made.get(key) as T;
}

/** A counter named `ballstream_<name>` in `registry`. */
export function counter<L extends string = never>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return new Counter<L>({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] });
}

/** A gauge named `ballstream_<name>` in `registry`. */
export function gauge(registry: Registry, name: string, help: string): Gauge {
  return new Gauge({ name: METRIC_PREFIX + name, help, registers: [registry] });
}

/** A histogram named `ballstream_<name>` in `registry` with `buckets`. */
export function histogram(registry: Registry, name: string, help: string, buckets: readonly number[]): Histogram {
  return new Histogram({ name: METRIC_PREFIX + name, help, buckets: [...buckets], registers: [registry] });
}

/**
 * Process metrics (CPU, memory, fds, event loop, heap) with a `service` label, once per registry. Call it from
 * the entry point (`main.ts`, or the embedded start with `service: "ballstream"`), not from service modules.
 */
export function collectProcessMetrics(registry: Registry, service: string): void {
  once(registry, "process", () => collectDefaultMetrics({ register: registry, labels: { service } }));
}

/** The answer to `GET /metrics`: the registry in the Prometheus text format. */
export async function metricsResponse(registry: Registry = defaultRegistry): Promise<Response> {
  try {
    return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
  } catch (err) {
    return new Response(`metrics collection failed: ${(err as Error).message}\n`, { status: 500 });
  }
}

/** Where `/metrics` is served and whether it asks for a token: the settings every service reads the same way. */
export interface MetricsEndpoint {
  /** Interface to listen on. */
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>` (`/healthz` stays open for probes). */
  readonly token: string | undefined;
}

/**
 * Reads METRICS_HOST, METRICS_PORT and METRICS_TOKEN (unset or empty: no token) over the service's defaults.
 * Throws naming the variable on a bad port.
 */
export function metricsEndpointFromEnv(env: Record<string, string | undefined>, defaults: { readonly host: string; readonly port: number }): MetricsEndpoint {
  const token = stringEnv(env, "METRICS_TOKEN", "");
  return { host: stringEnv(env, "METRICS_HOST", defaults.host), port: intEnv(env, "METRICS_PORT", defaults.port, 0, 65535), token: token === "" ? undefined : token };
}

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions extends Partial<MetricsEndpoint> {
  readonly registry?: Registry;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Runs before each scrape (e.g. to set a gauge that is only read then). */
  readonly beforeScrape?: () => void;
  /** Whether the service takes new sessions: `/readyz` answers 503 once it says false (draining); absent: always ready. */
  readonly ready?: () => boolean;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The port actually listened on. */
  readonly port: number;
  stop(): Promise<void>;
}

/** Whether `request` carries `Authorization: Bearer <token>` (compared in constant time). */
export function hasBearerToken(request: Request, token: string): boolean {
  const match = /^Bearer +(.+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(match[1] as string), digest(token));
}

/**
 * The one `/metrics` server of every service (host default `0.0.0.0`, so an orchestrator can scrape it):
 * `GET /metrics` (Prometheus text; 401 without the bearer token when one is set), `GET /healthz` (`ok`) and
 * `GET /readyz` (`ready`, or 503 `draining` once `ready()` says false, so an orchestrator stops counting a stopping
 * replica at once); anything else is 404.
 */
export function serveMetrics(options: ServeMetricsOptions): MetricsServer {
  const registry = options.registry ?? defaultRegistry;
  const { token, beforeScrape } = options;
  const server = Bun.serve({
    hostname: options.host ?? "0.0.0.0",
    port: options.port,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
      if (path === "/healthz") return new Response("ok\n");
      if (path === "/readyz") return options.ready?.() === false ? new Response("draining\n", { status: 503 }) : new Response("ready\n");
      if (path !== "/metrics") return new Response("not found\n", { status: 404 });
      if (token !== undefined && !hasBearerToken(req, token)) {
        return new Response("unauthorized\n", { status: 401, headers: { "www-authenticate": 'Bearer realm="metrics"' } });
      }
      beforeScrape?.();
      return metricsResponse(registry);
    },
  });
  return {
    port: server.port as number,
    stop: () => server.stop(true),
  };
}
