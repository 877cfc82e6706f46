/**
 * The real NATS configuration (deploy/base/nats-server.conf, shared by compose and Kubernetes) with a real
 * nats-server: it will not start without the login in its environment, refuses a client without credentials or
 * with a wrong password, and serves one with them through the services' own connectNatsBus. Compose and the
 * kustomize base hand the same login to the server and to every service.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BusError, connectNatsBus, createLogger } from "@ballstream/runtime";
import { freePort, natsServerBinary } from "@ballstream/testing";

const root = join(import.meta.dir, "..", "..");
const conf = join(root, "deploy/base/nats-server.conf");
const log = createLogger("test", { level: "silent" });
const LOGIN = { NATS_USER: "ballstream", NATS_PASSWORD: "test-only-password" };

/** nats-server with the real config on free loopback ports. */
async function runServer(env: Record<string, string>): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn>; output: () => Promise<string> }> {
  const [port, monitor] = [await freePort(), await freePort()];
  const proc = Bun.spawn([natsServerBinary(), "-c", conf, "-a", "127.0.0.1", "-p", String(port), "-m", String(monitor)], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    if ((await fetch(`http://127.0.0.1:${monitor}/healthz`).catch(() => undefined))?.ok) break;
    await Bun.sleep(50);
  }
  return { url: `nats://127.0.0.1:${port}`, proc, output: async () => (await new Response(proc.stderr as ReadableStream).text()) + (await new Response(proc.stdout as ReadableStream).text()) };
}

describe("NATS login with the real config", () => {
  test("nats-server refuses to start without NATS_USER/NATS_PASSWORD in its environment", async () => {
    const s = await runServer({});
    expect(await s.proc.exited).not.toBe(0);
    expect(await s.output()).toContain("NATS_USER");
  });

  test("refuses clients without credentials or with a wrong password, serves the right login", async () => {
    const s = await runServer(LOGIN);
    try {
      expect(s.proc.exitCode).toBeNull();
      for (const auth of [undefined, { user: LOGIN.NATS_USER, pass: "wrong" }]) {
        const err = await connectNatsBus({ url: s.url, name: "intruder", log, connectTimeoutMs: 2000, ...(auth ? { auth } : {}) }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BusError);
        expect(String((err as Error).message)).toMatch(/authorization/i);
      }
      const bus = await connectNatsBus({ url: s.url, name: "generator", log, auth: { user: LOGIN.NATS_USER, pass: LOGIN.NATS_PASSWORD } });
      const sub = bus.subscribe("ballstream.check", (m) => m.respond(m.data));
      expect(new TextDecoder().decode((await bus.request("ballstream.check", new TextEncoder().encode("ok"), { timeoutMs: 2000 })).data)).toBe("ok");
      sub.unsubscribe();
      await bus.drain();
    } finally {
      s.proc.kill("SIGTERM");
      await s.proc.exited;
    }
  }, 20_000);
});

describe("compose hands the same login to the server and to every service", () => {
  const compose = Bun.YAML.parse(readFileSync(join(root, "compose.yaml"), "utf8")) as { services: Record<string, { environment?: Record<string, string> }> };
  test("nats, generator, media and signaling get NATS_USER and NATS_PASSWORD from one place, overridable", () => {
    const logins = ["nats", "generator", "media", "signaling"].map((s) => [compose.services[s]?.environment?.NATS_USER, compose.services[s]?.environment?.NATS_PASSWORD]);
    for (const [user, password] of logins) {
      expect(user).toMatch(/^\$\{NATS_USER:-/);
      expect(password).toMatch(/^\$\{NATS_PASSWORD:-/);
    }
    expect(new Set(logins.map((l) => l.join()))).toHaveProperty("size", 1);
  });
});
