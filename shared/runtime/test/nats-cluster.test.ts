/** Issue 18's NATS cluster: three nats-server nodes on loopback; buses given every seed keep working as nodes die. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type TestNatsCluster, natsClusterBlock, natsNodeOf, natsRoutes, startNatsCluster } from "@ballstream/testing";
import { connectNatsBus } from "../src/bus/nats-bus.ts";
import type { Bus } from "../src/bus/bus.ts";
import { collectingLogger } from "./helpers.ts";

let cluster: TestNatsCluster;
const buses: Bus[] = [];

beforeAll(async () => {
  cluster = await startNatsCluster(3);
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.drain().catch(() => undefined)));
  await cluster?.stop();
});

/** A request `from` → `to` on a fresh subject, retried every 100 ms for up to 10 s (a reconnect takes ~0.25–1 s); returns the attempts. */
async function answersWithin(from: Bus, to: Bus, tag: string): Promise<number> {
  const subject = `cluster.${tag}`;
  const sub = to.subscribe(subject, (m) => m.respond(new TextEncoder().encode(tag)));
  try {
    for (let attempt = 1; attempt <= 100; attempt++) {
      try {
        const reply = await from.request(subject, new Uint8Array(0), { timeoutMs: 500 });
        if (new TextDecoder().decode(reply.data) === tag) return attempt;
      } catch {
        await Bun.sleep(100);
      }
    }
    throw new Error(`no answer on ${subject} within 10 s`);
  } finally {
    sub.unsubscribe();
  }
}

describe("a three-node NATS cluster", () => {
  test("the config block routes a node to the others", () => {
    expect(natsClusterBlock(6222, [6223, 6224])).toBe('cluster { name: "ballstream", listen: "127.0.0.1:6222", routes: ["nats://127.0.0.1:6223", "nats://127.0.0.1:6224"] }');
  });

  test("every node routes to the two others; buses with all seeds talk across nodes and through two of three nodes dying", async () => {
    expect(await Promise.all(cluster.nodes.map(natsRoutes))).toEqual([2, 2, 2]);
    expect(cluster.url.split(",")).toHaveLength(3);
    const { log } = collectingLogger();
    const a = await connectNatsBus({ url: cluster.url, name: "a", log });
    const b = await connectNatsBus({ url: cluster.url, name: "b", log });
    const onFirst = await connectNatsBus({ url: cluster.nodes[0]!.url, name: "first only", log }); // a client of node 0 alone
    buses.push(a, b, onFirst);
    // A new subscription's interest reaches the other nodes over the routes a moment later: a retry or two.
    expect(await answersWithin(a, b, "all-up")).toBeLessThanOrEqual(5);
    expect(await answersWithin(onFirst, b, "across")).toBeLessThanOrEqual(5); // whichever node b is on, the cluster routes it

    // Kill the node `a` is on, then the one it moved to: both times it must reconnect to a seed still alive.
    const first = await natsNodeOf(cluster.nodes, "a");
    expect(first).toBeGreaterThanOrEqual(0);
    await cluster.nodes[first]!.kill();
    const afterOne = await answersWithin(a, b, "one-dead");
    const second = await natsNodeOf(cluster.nodes, "a");
    expect([second === first, second]).toEqual([false, second]);
    await cluster.nodes[second]!.kill();
    const afterTwo = await answersWithin(a, b, "two-dead");
    const last = await natsNodeOf(cluster.nodes, "a");
    console.log(`NATS cluster: a was on node ${first}, then ${second}, then ${last}; a → b answered after ${afterOne} attempt(s) once its node died, ${afterTwo} once its next one died too`);
    expect(last).not.toBe(first);
    expect(last).not.toBe(second);
    expect(afterOne).toBeLessThan(100);
    expect(afterTwo).toBeLessThan(100);
  }, 60_000);
});
