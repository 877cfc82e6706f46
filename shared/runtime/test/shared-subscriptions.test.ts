import { describe, expect, test } from "bun:test";
import { MemoryBus } from "../src/bus/memory-bus.ts";
import { SharedSubscriptions } from "../src/bus/shared-subscriptions.ts";
import { collectingLogger } from "@ballstream/testing";

describe("SharedSubscriptions", () => {
  test("many handlers, one bus subscription; the last one out unsubscribes the bus", async () => {
    const bus = new MemoryBus();
    const { log } = collectingLogger();
    const shared = new SharedSubscriptions(bus, log);
    let onBus = 0;
    const got: string[] = [];
    const counting = bus.subscribe("s.x", () => onBus++);
    const a = shared.subscribe("s.x", () => got.push("a"));
    const b = shared.subscribe("s.x", () => got.push("b"));
    const twice = () => got.push("c");
    const c1 = shared.subscribe("s.x", twice);
    const c2 = shared.subscribe("s.x", twice);
    expect(shared.size).toBe(1);
    bus.publish("s.x", new Uint8Array(1));
    await Bun.sleep(1);
    expect(got.sort()).toEqual(["a", "b", "c", "c"]);
    for (const s of [a, b, c1]) s.unsubscribe();
    a.unsubscribe(); // idempotent: c2 stays
    expect(shared.size).toBe(1);
    c2.unsubscribe();
    expect(shared.size).toBe(0);
    got.length = 0;
    bus.publish("s.x", new Uint8Array(1));
    await Bun.sleep(1);
    expect(got).toEqual([]);
    expect(onBus).toBe(2);
    counting.unsubscribe();
  });

  test("a handler that throws is logged; the others still get the message", async () => {
    const bus = new MemoryBus();
    const { log, lines } = collectingLogger();
    const shared = new SharedSubscriptions(bus, log);
    const got: number[] = [];
    shared.subscribe("s.y", () => {
      throw new Error("boom");
    });
    shared.subscribe("s.y", (m) => got.push(m.data.length));
    bus.publish("s.y", new Uint8Array(3));
    await Bun.sleep(1);
    expect(got).toEqual([3]);
    expect(lines.some((l) => l.msg === "a shared subscription's handler failed")).toBe(true);
  });
});
