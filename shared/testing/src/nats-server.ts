/**
 * Starts a real `nats-server` for tests: on a free port of 127.0.0.1, with its own temporary config, stopped
 * (and its files removed) by `stop()`. Any package's tests import it from `@ballstream/testing`.
 * The binary is `NATS_SERVER_BIN`, else `nats-server` on PATH, else Debian's `/usr/sbin/nats-server`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { NatsAuth } from "@ballstream/runtime";

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** The server's max_payload in bytes (nats-server's default is 1 MiB). */
  readonly maxPayload?: number;
  /** Also serve nats-server's HTTP monitoring (`/subsz`, `/connz`) on a free port of 127.0.0.1. */
  readonly monitoring?: boolean;
  /** Require these credentials from every client (`authorization` in the config), as deploy/ does. */
  readonly auth?: NatsAuth;
  /** Join a cluster: listen for routes on `port` (127.0.0.1) and route to the other nodes' cluster ports. */
  readonly cluster?: { readonly port: number; readonly routes: readonly number[] };
  /**
   * Run inside this network namespace (`ip netns exec`, root only), listening on `host`:4222 there; readiness then
   * comes from its log ("Server is ready"), since this process cannot connect into the namespace.
   */
  readonly netns?: { readonly name: string; readonly host: string };
}

/** A running test server. */
export interface TestNatsServer {
  /** `nats://127.0.0.1:<port>` (`nats://<host>:4222` in a {@link NatsServerOptions.netns}) */
  readonly url: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>/` of the monitoring endpoint, when {@link NatsServerOptions.monitoring} is set. */
  readonly monitorUrl?: string;
  /** Stops the server gracefully (SIGTERM) and waits for it; idempotent. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would, and waits for it. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after `stop` or `kill`; stops it first if it runs). */
  restart(): Promise<void>;
}

/** The nats-server binary to run; throws a clear error when none is installed. */
export function natsServerBinary(): string {
  const candidates = [process.env.NATS_SERVER_BIN, Bun.which("nats-server"), "/usr/sbin/nats-server"];
  const found = candidates.find((c): c is string => typeof c === "string" && c.length > 0 && existsSync(c));
  if (!found) throw new Error("nats-server not found: apt-get install nats-server, or set NATS_SERVER_BIN");
  return found;
}

/** The nats-server config block that requires `auth` from every client. */
export function natsAuthorizationBlock(auth: NatsAuth): string {
  const fields = "token" in auth ? `token: ${JSON.stringify(auth.token)}` : `user: ${JSON.stringify(auth.user)}, password: ${JSON.stringify(auth.pass)}`;
  return `authorization { ${fields} }`;
}

/** The nats-server config block of a cluster node on 127.0.0.1: its route port and the other nodes' (name `ballstream`). */
export function natsClusterBlock(port: number, routes: readonly number[]): string {
  return `cluster { name: "ballstream", listen: "127.0.0.1:${port}", routes: [${routes.map((r) => `"nats://127.0.0.1:${r}"`).join(", ")}] }`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function acceptsConnections(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/** Starts nats-server and resolves once it accepts connections (rejects within 10 s if it cannot start). */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<TestNatsServer> {
  const binary = natsServerBinary();
  const dir = mkdtempSync(join(tmpdir(), "ballstream-nats-"));
  const host = options.netns?.host ?? "127.0.0.1";
  let port = 0;
  const monitorPort = options.monitoring ? await freePort() : 0;
  let proc: Subprocess | undefined;

  const launch = async (): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    const config = join(dir, "nats.conf");
    const logFile = join(dir, "nats.log");
    const lines = [`listen: "${host}:${port}"`, `log_file: "${logFile}"`];
    if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
    if (monitorPort !== 0) lines.push(`http: "127.0.0.1:${monitorPort}"`);
    if (options.auth) lines.push(natsAuthorizationBlock(options.auth));
    if (options.cluster) lines.push(natsClusterBlock(options.cluster.port, options.cluster.routes));
    writeFileSync(config, `${lines.join("\n")}\n`);
    if (options.netns) rmSync(logFile, { force: true }); // a restart must not see the last run's "ready"
    const prefix = options.netns ? ["ip", "netns", "exec", options.netns.name] : [];
    const child = Bun.spawn([...prefix, binary, "-c", config], { stdout: "ignore", stderr: "ignore" });
    const ready = options.netns ? () => existsSync(logFile) && readFileSync(logFile, "utf8").includes("Server is ready") : () => acceptsConnections(port);
    proc = child;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      if (await ready()) return;
      await Bun.sleep(25);
    }
    child.kill("SIGKILL");
    await child.exited;
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().slice(-500) : "no log";
    throw new Error(`nats-server did not start on port ${port}: ${log}`);
  };

  const halt = async (signal: "SIGTERM" | "SIGKILL"): Promise<void> => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill(signal);
    await child.exited;
  };

  // A test runner that dies must not leave the server behind.
  const killOnExit = () => proc?.kill("SIGKILL");
  process.once("exit", killOnExit);

  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    port = options.netns ? 4222 : await freePort(); // a namespace of its own: the standard port is free
    try {
      await launch();
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError !== undefined) {
    process.off("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }

  return {
    url: `nats://${host}:${port}`,
    port,
    ...(monitorPort !== 0 ? { monitorUrl: `http://127.0.0.1:${monitorPort}/` } : {}),
    stop: async () => {
      await halt("SIGTERM");
      process.off("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => halt("SIGKILL"),
    restart: async () => {
      await halt("SIGTERM");
      await launch();
    },
  };
}

/** A cluster of test servers on loopback. */
export interface TestNatsCluster {
  readonly nodes: readonly TestNatsServer[];
  /** Every node's URL, comma-separated: what a client given all seeds gets (`NATS_URL`). */
  readonly url: string;
  /** Stops every node; idempotent. */
  stop(): Promise<void>;
}

/** Routes `node` holds now (from its monitoring endpoint's `/routez`). */
export async function natsRoutes(node: TestNatsServer): Promise<number> {
  if (!node.monitorUrl) throw new Error("the node has no monitoring endpoint");
  return ((await (await fetch(`${node.monitorUrl}routez`)).json()) as { num_routes: number }).num_routes;
}

/** Starts `size` clustered nodes (each routed to all others, monitoring on) and resolves once every route is up (≤ 10 s). */
export async function startNatsCluster(size = 3, options: Omit<NatsServerOptions, "cluster" | "monitoring"> = {}): Promise<TestNatsCluster> {
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const nodes: TestNatsServer[] = [];
  const stop = () => Promise.all(nodes.map((n) => n.stop())).then(() => undefined);
  try {
    for (const [i, port] of clusterPorts.entries()) {
      nodes.push(await startNatsServer({ ...options, monitoring: true, cluster: { port, routes: clusterPorts.filter((_, j) => j !== i) } }));
    }
    const deadline = Date.now() + 10_000;
    while ((await Promise.all(nodes.map(natsRoutes))).some((r) => r < size - 1)) {
      if (Date.now() > deadline) throw new Error(`the ${size} nats-server nodes did not route to each other within 10 s`);
      await Bun.sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, url: nodes.map((n) => n.url).join(","), stop };
}

/** The index of the live node among `nodes` whose clients include one named `name` (each node's `/connz`), or −1. */
export async function natsNodeOf(nodes: readonly TestNatsServer[], name: string): Promise<number> {
  for (const [i, node] of nodes.entries()) {
    if (!node.monitorUrl) continue;
    try {
      const connz = (await (await fetch(`${node.monitorUrl}connz`)).json()) as { connections?: Array<{ name?: string }> };
      if (connz.connections?.some((c) => c.name === name)) return i;
    } catch {
      // a dead node
    }
  }
  return -1;
}
