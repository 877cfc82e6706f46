/** What only the NATS bus does: server INFO limits, reconnect with backoff, error mapping, connect failures. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ClosedConnectionError, DrainingConnectionError, errors, RequestError, TimeoutError } from "@nats-io/nats-core";
import { BusError } from "../src/bus/bus.ts";
import { connectNatsBus, natsAuthFromEnv, reconnectDelayMs, toBusError } from "../src/bus/nats-bus.ts";
import { freePort, natsAuthorizationBlock, natsServerBinary, startNatsServer, type TestNatsServer } from "@ballstream/testing";
import { collect, collectingLogger, roundTrip, waitFor } from "./helpers.ts";

describe("toBusError", () => {
  test("maps each client error to its code and passes others through", () => {
    const code = (e: unknown) => (toBusError(e, "s") as BusError).code;
    expect(code(new TimeoutError())).toBe("timeout");
    expect(code(new errors.NoRespondersError("s"))).toBe("no_responders");
    expect(code(new RequestError("x", { cause: new errors.NoRespondersError("s") }))).toBe("no_responders");
    expect(code(new ClosedConnectionError())).toBe("closed");
    expect(code(new DrainingConnectionError())).toBe("closed");
    expect(code(new errors.InvalidSubjectError("a b"))).toBe("bad_subject");
    expect(code(errors.InvalidArgumentError.format("payload", "max_payload size exceeded"))).toBe("too_large");
    const own = new BusError("timeout", "t");
    expect(toBusError(own, "s")).toBe(own);
    const other = new Error("other");
    expect(toBusError(other, "s")).toBe(other);
    expect(toBusError(new RequestError("plain"), "s")).toBeInstanceOf(RequestError);
  });
});

describe("reconnectDelayMs", () => {
  test("doubles from min to max with at most 10 % jitter", () => {
    for (const [attempt, base] of [[0, 250], [1, 500], [2, 1000], [4, 4000], [5, 5000], [60, 5000]] as const) {
      const d = reconnectDelayMs(attempt, 250, 5000);
      expect(d).toBeGreaterThanOrEqual(base);
      expect(d).toBeLessThanOrEqual(Math.round(base * 1.1));
    }
  });
});

describe("startNatsServer", () => {
  test("finds the binary and a free port", async () => {
    expect(natsServerBinary()).toMatch(/nats-server$/);
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });

  test("serves the monitoring endpoint when asked", async () => {
    const monitored = await startNatsServer({ monitoring: true });
    try {
      const subsz = (await (await fetch(new URL("subsz", monitored.monitorUrl))).json()) as { num_subscriptions: number };
      expect(subsz.num_subscriptions).toBeGreaterThanOrEqual(0);
    } finally {
      await monitored.stop();
    }
  });
});

describe("NatsBus against a real server", () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ maxPayload: 300_000 });
  });
  afterAll(() => server.stop());

  test("maxPayload comes from the server's INFO", async () => {
    const { log, lines } = collectingLogger();
    const bus = await connectNatsBus({ url: server.url, name: "info", log });
    expect(bus.maxPayload).toBe(300_000);
    expect(() => bus.publish("t.big", new Uint8Array(460_800))).toThrow(/max_payload 300000/);
    expect(lines.some((l) => l.msg === "connected to NATS" && l.maxPayload === 300_000)).toBe(true);
    await bus.drain();
    expect(lines.some((l) => l.msg === "NATS connection closed")).toBe(true);
  });

  test("survives a server crash: logs disconnect and reconnect, restores subscriptions, drops while down", async () => {
    const { log, lines } = collectingLogger();
    const opts = { url: server.url, log, reconnectMinMs: 50, reconnectMaxMs: 200 };
    const pub = await connectNatsBus({ ...opts, name: "pub" });
    const sub = await connectNatsBus({ ...opts, name: "sub" });
    const got = collect(sub, "t.reconnect");
    await roundTrip(sub);
    pub.publish("t.reconnect", new Uint8Array([1]));
    await waitFor(() => got.length === 1);

    await server.kill();
    await waitFor(() => lines.filter((l) => l.msg === "disconnected from NATS; reconnecting").length === 2);
    expect(pub.closed).toBe(false);
    pub.publish("t.reconnect", new Uint8Array([2]));
    await server.restart();
    await waitFor(() => lines.filter((l) => l.msg === "reconnected to NATS").length === 2);
    const reconnected = lines.find((l) => l.msg === "reconnected to NATS" && l.droppedMessages === 1);
    expect(reconnected).toBeDefined();
    expect(reconnected!.attempts).toBeGreaterThanOrEqual(1);

    await roundTrip(sub);
    await roundTrip(pub);
    pub.publish("t.reconnect", new Uint8Array([3]));
    await waitFor(() => got.length === 2);
    expect(got.map((m) => m.data[0])).toEqual([1, 3]);
    expect(sub.maxPayload).toBe(300_000);
    await Promise.all([pub.drain(), sub.drain()]);
  });

  test("connecting to a port without a server fails with a clear error", async () => {
    const { log } = collectingLogger();
    const port = await freePort();
    const err = await connectNatsBus({ url: `nats://127.0.0.1:${port}`, name: "x", log, connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe("closed");
    expect((err as BusError).message).toContain(`cannot connect to NATS at nats://127.0.0.1:${port}`);
  });
});

describe("NATS credentials", () => {
  test("natsAuthFromEnv reads a user and password or a token, and refuses half a pair", () => {
    expect(natsAuthFromEnv({})).toBeUndefined();
    expect(natsAuthFromEnv({ NATS_USER: " ballstream ", NATS_PASSWORD: "pw" })).toEqual({ user: "ballstream", pass: "pw" });
    expect(natsAuthFromEnv({ NATS_TOKEN: "t0k" })).toEqual({ token: "t0k" });
    expect(() => natsAuthFromEnv({ NATS_USER: "u" })).toThrow("NATS_USER and NATS_PASSWORD");
    expect(() => natsAuthFromEnv({ NATS_PASSWORD: "p" })).toThrow("NATS_USER and NATS_PASSWORD");
    expect(() => natsAuthFromEnv({ NATS_USER: "u", NATS_PASSWORD: "p", NATS_TOKEN: "t" })).toThrow("not both");
  });

  test("natsAuthorizationBlock quotes what it writes", () => {
    expect(natsAuthorizationBlock({ user: "u", pass: 'p"q' })).toBe('authorization { user: "u", password: "p\\"q" }');
    expect(natsAuthorizationBlock({ token: "t" })).toBe('authorization { token: "t" }');
  });

  for (const auth of [{ user: "ballstream", pass: "s3cret-pw" }, { token: "s3cret-token" }] as const) {
    const kind = "token" in auth ? "a token" : "a user and password";
    test(`a server requiring ${kind} refuses a client without them or with wrong ones, and serves one with them`, async () => {
      const server = await startNatsServer({ auth });
      try {
        const { log, lines } = collectingLogger();
        for (const wrong of [undefined, "token" in auth ? { token: "nope" } : { user: auth.user, pass: "nope" }]) {
          const err = await connectNatsBus({ url: server.url, name: "intruder", log, connectTimeoutMs: 2000, ...(wrong ? { auth: wrong } : {}) }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(BusError);
          expect((err as BusError).message).toMatch(/authorization|auth/i);
        }
        const bus = await connectNatsBus({ url: server.url, name: "service", log, auth });
        try {
          await roundTrip(bus);
        } finally {
          await bus.drain();
        }
        expect(JSON.stringify(lines)).not.toContain("s3cret");
      } finally {
        await server.stop();
      }
    }, 20_000);
  }
});
