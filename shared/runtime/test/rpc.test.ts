import { describe, expect, test } from "bun:test";
import { MemoryBus } from "../src/bus/memory-bus.ts";
import { requestJson, serveJson } from "../src/bus/rpc.ts";
import { ProtocolError, encodeJson, asNumber, asObject } from "@ballstream/protocol";
import { collectingLogger } from "./helpers.ts";

const parseN = (v: unknown) => asNumber(asObject(v, "req").n, "n", 0, 100);
const parseReply = (v: unknown) => asNumber(v, "reply", -1e9, 1e9);

async function failure(p: Promise<unknown>): Promise<ProtocolError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

describe("requestJson / serveJson", () => {
  test("a validated request gets the handler's value", async () => {
    const { log } = collectingLogger();
    const bus = new MemoryBus(log);
    serveJson(bus, "svc.double", parseN, async (n) => n * 2, log);
    expect(await requestJson(bus, "svc.double", { n: 21 }, parseReply, 1000)).toBe(42);
  });

  test("a ProtocolError in the handler or validator reaches the caller with its code", async () => {
    const { log } = collectingLogger();
    const bus = new MemoryBus(log);
    serveJson(bus, "svc.s", parseN, (n) => {
      if (n === 0) throw new ProtocolError("unknown_session", "no session 0");
      return n;
    }, log);
    const e1 = await failure(requestJson(bus, "svc.s", { n: 0 }, parseReply, 1000));
    expect([e1.code, e1.message]).toEqual(["unknown_session", "no session 0"]);
    const e2 = await failure(requestJson(bus, "svc.s", { n: 1000 }, parseReply, 1000));
    expect(e2.code).toBe("bad_request");
    const e3 = await failure(requestJson(bus, "svc.s", "not an object", parseReply, 1000));
    expect(e3.code).toBe("bad_request");
  });

  test("any other exception becomes `internal` for the caller and is logged by the server", async () => {
    const { log, lines } = collectingLogger();
    const bus = new MemoryBus(log);
    serveJson(bus, "svc.crash", parseN, () => {
      throw new TypeError("secret detail");
    }, log);
    const e = await failure(requestJson(bus, "svc.crash", { n: 1 }, parseReply, 1000));
    expect([e.code, e.message]).toEqual(["internal", "internal error"]);
    expect(lines.some((l) => l.msg === "request handler failed" && (l.err as { message: string }).message === "secret detail")).toBe(true);
  });

  test("nobody listening → unavailable; nobody answering → timeout", async () => {
    const { log } = collectingLogger();
    const bus = new MemoryBus(log);
    expect((await failure(requestJson(bus, "svc.none", {}, parseReply, 1000))).code).toBe("unavailable");
    bus.subscribe("svc.mute", () => {});
    expect((await failure(requestJson(bus, "svc.mute", {}, parseReply, 50))).code).toBe("timeout");
  });

  test("a malformed reply is a bad_request, an error reply without a code is internal", async () => {
    const { log } = collectingLogger();
    const bus = new MemoryBus(log);
    bus.subscribe("svc.garbage", (m) => m.respond(new Uint8Array([0x7b])));
    expect((await failure(requestJson(bus, "svc.garbage", {}, parseReply, 1000))).code).toBe("bad_request");
    bus.subscribe("svc.nocode", (m) => m.respond(encodeJson({ ok: false, error: { message: "m" } })));
    const e = await failure(requestJson(bus, "svc.nocode", {}, parseReply, 1000));
    expect([e.code, e.message]).toEqual(["internal", "m"]);
    bus.subscribe("svc.badvalue", (m) => m.respond(encodeJson({ ok: true, value: "x" })));
    expect((await failure(requestJson(bus, "svc.badvalue", {}, parseReply, 1000))).code).toBe("bad_request");
  });

  test("serveJson honours the queue group option and returns an unsubscribable subscription", async () => {
    const { log } = collectingLogger();
    const bus = new MemoryBus(log);
    const hits = [0, 0];
    const subs = [0, 1].map((i) => serveJson(bus, "svc.q", parseN, (n) => {
      hits[i]!++;
      return n;
    }, log, { queue: "svc" }));
    for (let i = 0; i < 4; i++) await requestJson(bus, "svc.q", { n: i }, parseReply, 1000);
    expect(hits).toEqual([2, 2]);
    for (const s of subs) s.unsubscribe();
    expect((await failure(requestJson(bus, "svc.q", { n: 1 }, parseReply, 1000))).code).toBe("unavailable");
  });
});
