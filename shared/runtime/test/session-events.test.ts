import { describe, expect, test } from "bun:test";
import { MemoryBus } from "../src/bus/memory-bus.ts";
import { decodeJson, parseSessionEvent, subjects } from "@ballstream/protocol";
import { publishSessionEvent } from "../src/session-events.ts";
import { collectingLogger } from "@ballstream/testing";

const ID = "AAAAAAAAAAAAAAAAAAAAAA";

describe("publishSessionEvent", () => {
  test("publishes the event on the session's events subject", async () => {
    const bus = new MemoryBus();
    const got: unknown[] = [];
    bus.subscribe(subjects.events(ID), (m) => got.push(parseSessionEvent(decodeJson(m.data))));
    const { log } = collectingLogger();
    publishSessionEvent(bus, ID, { source: "media", message: "encoder gave up", fatal: true }, log);
    await Bun.sleep(0);
    expect(got).toEqual([{ source: "media", message: "encoder gave up", fatal: true }]);
  });

  test("a closed bus is logged, not thrown", async () => {
    const bus = new MemoryBus();
    await bus.drain();
    const { log, lines } = collectingLogger();
    expect(() => publishSessionEvent(bus, ID, { source: "generator", message: "worker died", fatal: true }, log)).not.toThrow();
    expect(lines.some((l) => l.msg === "could not publish the session event" && l.level === "warn")).toBe(true);
  });
});
