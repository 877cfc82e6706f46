import { describe, expect, test } from "bun:test";
import { createLinkMetrics } from "../src/link-emulator-metrics.ts";
import { LinkEmulator } from "../src/link-emulator.ts";
import { LinkSwitch, SessionLink } from "../src/link-switch.ts";
import { createRegistry } from "../src/metrics.ts";
import { FakeClock } from "./fake-clock.ts";

/** A switch on a fake clock that records what arrives (packet number, time, whether it was a copy). */
function rig() {
  const clock = new FakeClock();
  const sw = new LinkSwitch((conditions) => new LinkEmulator({ seed: 1, ...conditions }, { clock }));
  const arrivals: Array<{ n: number; at: number; copied: boolean }> = [];
  const send = (n: number) => {
    const data = new Uint8Array([n]);
    sw.pass(data, (out) => arrivals.push({ n: out[0] as number, at: clock.now(), copied: out !== data }));
  };
  return { clock, sw, arrivals, send };
}

describe("LinkSwitch", () => {
  test("with no conditions a packet passes at once, the same buffer", () => {
    const { sw, arrivals, send } = rig();
    expect(sw.conditions).toBeUndefined();
    send(1);
    expect(arrivals).toEqual([{ n: 1, at: 0, copied: false }]);
  });

  test("a change applies to packets sent after it; those already in the old link still arrive", () => {
    const { clock, sw, arrivals, send } = rig();
    sw.set({ delayMs: 50 });
    send(1);
    clock.advance(10);
    sw.set({ delayMs: 5 });
    expect(sw.conditions?.delayMs).toBe(5);
    send(2);
    clock.advance(100);
    expect(arrivals.map(({ n, at }) => [n, at])).toEqual([[2, 15], [1, 50]]);
    expect(arrivals.every((a) => a.copied)).toBe(true);
    sw.set(undefined);
    send(3);
    expect(arrivals.at(-1)).toEqual({ n: 3, at: 100, copied: false });
  });

  test("a blackout counts from the change that sets it", () => {
    const { clock, sw, arrivals, send } = rig();
    clock.advance(5000);
    sw.set({ blackout: { durationMs: 1000, atMs: 0 } });
    send(1);
    clock.advance(5999);
    send(2);
    clock.advance(6000);
    send(3);
    expect(arrivals.map((a) => a.n)).toEqual([3]);
  });

  test("close drops what is in flight, in old links too, and lets later packets pass", () => {
    const { clock, sw, arrivals, send } = rig();
    sw.set({ delayMs: 50 });
    send(1);
    sw.set({ delayMs: 60 });
    send(2);
    sw.close();
    clock.advance(100);
    expect(arrivals).toEqual([]);
    expect(clock.pending).toBe(0);
    send(3);
    expect(arrivals.map((a) => a.n)).toEqual([3]);
  });
});

describe("SessionLink", () => {
  test("sets both directions, and the sessions gauge counts the directions with conditions", async () => {
    const registry = createRegistry();
    const metrics = createLinkMetrics(registry, "test");
    const gauge = async () => (await registry.getSingleMetric("ballstream_test_net_session_links")!.get()).values.map((v) => [v.labels.direction, v.value]);
    const a = new SessionLink(metrics, new FakeClock());
    const b = new SessionLink(metrics, new FakeClock());
    expect(await gauge()).toEqual([["egress", 0], ["ingress", 0]]);
    a.set({ egress: { loss: 0.05 } });
    b.set({ egress: { delayMs: 5 }, ingress: { delayMs: 5 } });
    expect(a.net).toEqual({ egress: { loss: 0.05 } });
    expect([a.egress.conditions, a.ingress.conditions]).toEqual([{ loss: 0.05 }, undefined]);
    expect(await gauge()).toEqual([["egress", 2], ["ingress", 1]]);
    b.set({ ingress: { delayMs: 9 } });
    expect(await gauge()).toEqual([["egress", 1], ["ingress", 1]]);
    a.close();
    b.close();
    expect(await gauge()).toEqual([["egress", 0], ["ingress", 0]]);
    expect([a.egress.conditions, b.ingress.conditions]).toEqual([undefined, undefined]);
  });

  test("its packets are counted with the service's link packets", async () => {
    const registry = createRegistry();
    const link = new SessionLink(createLinkMetrics(registry, "test"), new FakeClock());
    link.set({ egress: { loss: 1 } });
    link.egress.pass(new Uint8Array(10), () => undefined);
    const values = (await registry.getSingleMetric("ballstream_test_net_packets_total")!.get()).values;
    expect(values.find((v) => v.labels.outcome === "lost")?.value).toBe(1);
  });
});
