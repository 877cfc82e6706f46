/**
 * The Bus contract, run against both implementations: the in-process MemoryBus and the NATS bus against a real
 * nats-server on a free loopback port. On NATS every "peer" is its own connection, so messages cross the server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Bus } from "../src/bus/bus.ts";
import { BusError } from "../src/bus/bus.ts";
import { MemoryBus } from "../src/bus/memory-bus.ts";
import { connectNatsBus } from "../src/bus/nats-bus.ts";
import type { Logger } from "../src/log.ts";
import { startNatsServer, type TestNatsServer } from "@ballstream/testing";
import { collect, collectingLogger, pattern, roundTrip, waitFor } from "./helpers.ts";

/** How a suite gets its buses: `peer()` is another participant (the same bus in-process, a new connection on NATS). */
interface Harness {
  readonly name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  peer(log: Logger): Promise<Bus>;
  closeAll(): Promise<void>;
}

function memoryHarness(): Harness {
  let bus: MemoryBus | undefined;
  return {
    name: "MemoryBus",
    setup: async () => {},
    teardown: async () => {},
    peer: async (log) => (bus ??= new MemoryBus(log)),
    closeAll: async () => {
      if (bus && !bus.closed) await bus.drain();
      bus = undefined;
    },
  };
}

function natsHarness(): Harness {
  let server: TestNatsServer;
  const open: Bus[] = [];
  return {
    name: "NatsBus",
    setup: async () => {
      server = await startNatsServer();
    },
    teardown: () => server.stop(),
    peer: async (log) => {
      const bus = await connectNatsBus({ url: server.url, name: `contract-${open.length}`, log });
      open.push(bus);
      return bus;
    },
    closeAll: async () => {
      await Promise.all(open.splice(0).filter((b) => !b.closed).map((b) => b.drain()));
    },
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function expectBusError(p: Promise<unknown> | (() => unknown), code: BusError["code"]): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe(code);
    return;
  }
  throw new Error(`expected BusError ${code}, nothing was thrown`);
}

for (const harness of [memoryHarness(), natsHarness()]) {
  describe(`Bus contract: ${harness.name}`, () => {
    const { log, lines } = collectingLogger("contract");
    beforeAll(() => harness.setup());
    afterAll(() => harness.teardown());
    afterEach(() => harness.closeAll());

    test("publish reaches a subscriber of that subject only, intact and in order", async () => {
      const a = await harness.peer(log);
      const b = await harness.peer(log);
      const got = collect(b, "t.pub.one");
      const other = collect(b, "t.pub.two");
      await roundTrip(b);
      for (let i = 0; i < 20; i++) a.publish("t.pub.one", bytes(`m${i}`));
      const big = pattern(460_800);
      a.publish("t.pub.one", big);
      await waitFor(() => got.length === 21);
      expect(got.slice(0, 20).map((m) => text(m.data))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(got[20]!.subject).toBe("t.pub.one");
      expect(Buffer.from(got[20]!.data).equals(Buffer.from(big))).toBe(true);
      expect(other).toHaveLength(0);
    });

    test("wildcards: * is exactly one token, > is one or more trailing tokens", async () => {
      const a = await harness.peer(log);
      const b = await harness.peer(log);
      const star = collect(b, "t.wild.*");
      const tail = collect(b, "t.wild.>");
      const mid = collect(b, "t.*.x");
      await roundTrip(b);
      for (const s of ["t.wild", "t.wild.a.b", "t.wild.a", "t.other.x", "t.wild.x"]) a.publish(s, bytes(s));
      await waitFor(() => star.length === 2 && tail.length === 3 && mid.length === 2);
      a.publish("t.wild.end", bytes("end"));
      await waitFor(() => star.length === 3);
      expect(star.map((m) => m.subject)).toEqual(["t.wild.a", "t.wild.x", "t.wild.end"]);
      expect(tail.map((m) => m.subject)).toEqual(["t.wild.a.b", "t.wild.a", "t.wild.x", "t.wild.end"]);
      expect(mid.map((m) => m.subject)).toEqual(["t.other.x", "t.wild.x"]);
    });

    test("queue group: each message reaches exactly one member, spread across members; plain subscribers get all", async () => {
      const pub = await harness.peer(log);
      const m1 = await harness.peer(log);
      const m2 = await harness.peer(log);
      const g1 = collect(m1, "t.queue", "workers");
      const g2 = collect(m2, "t.queue", "workers");
      const plain = collect(m2, "t.queue");
      await roundTrip(m1);
      await roundTrip(m2);
      const n = 60;
      for (let i = 0; i < n; i++) pub.publish("t.queue", bytes(String(i)));
      await waitFor(() => g1.length + g2.length === n && plain.length === n);
      const ids = [...g1, ...g2].map((m) => Number(text(m.data))).sort((x, y) => x - y);
      expect(ids).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(g1.length).toBeGreaterThan(0);
      expect(g2.length).toBeGreaterThan(0);
    });

    test("request/reply: the reply comes back to the requester; respond() is false for a plain publish", async () => {
      const client = await harness.peer(log);
      const server = await harness.peer(log);
      const plainResponds: boolean[] = [];
      server.subscribe("t.rpc.echo", (m) => {
        expect(m.respond(bytes(`echo:${text(m.data)}`))).toBe(true);
      });
      server.subscribe("t.rpc.plain", (m) => plainResponds.push(m.respond(bytes("x"))));
      await roundTrip(server);
      const replies = await Promise.all([1, 2, 3].map((i) => client.request("t.rpc.echo", bytes(`q${i}`), { timeoutMs: 10_000 })));
      expect(replies.map((r) => text(r.data))).toEqual(["echo:q1", "echo:q2", "echo:q3"]);
      client.publish("t.rpc.plain", bytes("p"));
      await waitFor(() => plainResponds.length === 1);
      expect(plainResponds).toEqual([false]);
    });

    test("request to a queue group is answered once", async () => {
      const client = await harness.peer(log);
      const s1 = await harness.peer(log);
      const s2 = await harness.peer(log);
      let answered = 0;
      for (const s of [s1, s2]) {
        s.subscribe("t.rpc.group", (m) => {
          answered++;
          m.respond(bytes("ok"));
        }, { queue: "svc" });
        await roundTrip(s);
      }
      for (let i = 0; i < 10; i++) expect(text((await client.request("t.rpc.group", bytes("q"), { timeoutMs: 10_000 })).data)).toBe("ok");
      expect(answered).toBe(10);
    });

    test("a request nobody answers times out", async () => {
      const client = await harness.peer(log);
      const silent = await harness.peer(log);
      silent.subscribe("t.rpc.silent", () => {});
      await roundTrip(silent);
      await expectBusError(client.request("t.rpc.silent", bytes("q"), { timeoutMs: 150 }), "timeout");
    });

    test("a request to a subject without subscribers fails with no_responders", async () => {
      const client = await harness.peer(log);
      await expectBusError(client.request("t.rpc.nobody", bytes("q"), { timeoutMs: 10_000 }), "no_responders");
    });

    test("messages over maxPayload are refused with too_large; exactly maxPayload passes", async () => {
      const a = await harness.peer(log);
      const b = await harness.peer(log);
      expect(a.maxPayload).toBeGreaterThanOrEqual(1024 * 1024);
      const got = collect(b, "t.size");
      await roundTrip(b);
      await expectBusError(() => a.publish("t.size", new Uint8Array(a.maxPayload + 1)), "too_large");
      await expectBusError(a.request("t.size", new Uint8Array(a.maxPayload + 1), { timeoutMs: 1000 }), "too_large");
      a.publish("t.size", new Uint8Array(a.maxPayload));
      await waitFor(() => got.length === 1);
      expect(got[0]!.data.length).toBe(a.maxPayload);
    });

    test("invalid subjects are refused with bad_subject", async () => {
      const a = await harness.peer(log);
      await expectBusError(() => a.publish("t.*", bytes("x")), "bad_subject");
      await expectBusError(() => a.publish("t..x", bytes("x")), "bad_subject");
      await expectBusError(() => a.subscribe("t.>.x", () => {}), "bad_subject");
      await expectBusError(() => a.subscribe("", () => {}), "bad_subject");
    });

    test("unsubscribe stops delivery; other subscriptions keep theirs", async () => {
      const a = await harness.peer(log);
      const b = await harness.peer(log);
      const kept = collect(b, "t.unsub");
      const gone: string[] = [];
      const sub = b.subscribe("t.unsub", (m) => gone.push(text(m.data)));
      await roundTrip(b);
      a.publish("t.unsub", bytes("1"));
      await waitFor(() => kept.length === 1 && gone.length === 1);
      sub.unsubscribe();
      sub.unsubscribe();
      a.publish("t.unsub", bytes("2"));
      await waitFor(() => kept.length === 2);
      expect(gone).toEqual(["1"]);
    });

    test("a handler that throws is logged and isolated: it keeps receiving, other handlers too", async () => {
      const a = await harness.peer(log);
      const b = await harness.peer(log);
      const seen: string[] = [];
      b.subscribe("t.throw", (m) => {
        seen.push(text(m.data));
        throw new Error(`boom ${text(m.data)}`);
      });
      const others = collect(b, "t.throw");
      await roundTrip(b);
      const before = lines.length;
      a.publish("t.throw", bytes("1"));
      a.publish("t.throw", bytes("2"));
      await waitFor(() => others.length === 2 && seen.length === 2);
      expect(seen).toEqual(["1", "2"]);
      const logged = lines.slice(before).filter((l) => l.msg === "bus handler threw");
      expect(logged).toHaveLength(2);
      expect((logged[0]!.err as { message: string }).message).toBe("boom 1");
    });

    test("drain delivers what was already sent, then closes: publish/subscribe/request fail with closed", async () => {
      const a = await harness.peer(log);
      const got = collect(a, "t.drain");
      for (let i = 0; i < 5; i++) a.publish("t.drain", bytes(String(i)));
      expect(a.closed).toBe(false);
      await a.drain();
      expect(got.map((m) => text(m.data))).toEqual(["0", "1", "2", "3", "4"]);
      expect(a.closed).toBe(true);
      await expectBusError(() => a.publish("t.drain", bytes("x")), "closed");
      await expectBusError(() => a.subscribe("t.drain", () => {}), "closed");
      await expectBusError(a.request("t.drain", bytes("x"), { timeoutMs: 100 }), "closed");
      await a.drain();
    });
  });
}
