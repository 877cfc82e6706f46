/** SessionLease on the in-process bus: what keeps a media session alive, what ends it, and its network setting. */
import { describe, expect, test } from "bun:test";
import { encodeJson, subjects } from "@ballstream/protocol";
import { MemoryBus, SessionLink } from "@ballstream/runtime";
import { collectingLogger } from "@ballstream/testing";
import { SessionLease, setSessionNetwork } from "../src/session-lease.ts";

const ID = "sessionLeaseTestId0000";

describe("SessionLease", () => {
  test("heartbeats keep it; `ended` ends it; without heartbeats it ends after the timeout", async () => {
    const bus = new MemoryBus();
    const { log } = collectingLogger();
    const ends: string[] = [];
    const link = new SessionLink();
    const lease = new SessionLease(bus, ID, 200, link, log, { onEnd: (r) => ends.push(r) });
    for (let i = 0; i < 4; i++) {
      await Bun.sleep(80);
      bus.publish(subjects.heartbeat(ID), new Uint8Array(0));
    }
    expect(ends).toEqual([]);
    bus.publish(subjects.ended(ID), encodeJson({ reason: "x" }));
    await Bun.sleep(5);
    expect(ends).toEqual(["session ended"]);
    await Bun.sleep(350);
    expect(ends).toContain("heartbeat timeout");
    lease.release();
    link.close();
  });

  test("a network setting goes on the session's link; a malformed one is logged and dropped", async () => {
    const bus = new MemoryBus();
    const { log, lines } = collectingLogger();
    const link = new SessionLink();
    const lease = new SessionLease(bus, ID, 10_000, link, log, { onEnd: () => undefined });
    bus.publish(subjects.network(ID), encodeJson({ down: "", up: "loss=5%" }));
    await Bun.sleep(5);
    expect(link.net.ingress?.loss).toBeCloseTo(0.05);
    bus.publish(subjects.network(ID), encodeJson({ down: 7 }));
    await Bun.sleep(5);
    expect(lines.some((l) => l.msg === "malformed network setting dropped")).toBe(true);
    expect(link.net.ingress?.loss).toBeCloseTo(0.05);
    lease.release();
    bus.publish(subjects.network(ID), encodeJson({ down: "", up: "" }));
    await Bun.sleep(5);
    expect(link.net.ingress?.loss).toBeCloseTo(0.05); // released: no longer listening
    link.close();
  });
});

describe("setSessionNetwork", () => {
  test("puts the conditions on the link and logs them", () => {
    const { log, lines } = collectingLogger();
    const link = new SessionLink();
    setSessionNetwork(link, { down: "delay=20ms", up: "" }, log);
    expect(link.net.egress?.delayMs).toBe(20);
    expect(link.net.ingress).toBeUndefined();
    expect(lines.some((l) => l.msg === "session network set")).toBe(true);
    link.close();
  });
});
