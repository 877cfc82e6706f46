import { describe, expect, test } from "bun:test";
import type { LinkOutcome } from "../src/link-emulator.ts";
import { closeLinkPair, createLinkPair, throughLink } from "../src/link-emulator-pair.ts";

describe("createLinkPair / closeLinkPair", () => {
  test("makes an emulator only for the directions given, each with its own observer; closing drops what is in flight", () => {
    expect(createLinkPair({})).toEqual({});
    const told: Array<[string, LinkOutcome]> = [];
    const pair = createLinkPair({ ingress: { delayMs: 5 } }, (direction) => (outcome) => told.push([direction, outcome]));
    expect(pair.egress).toBeUndefined();
    expect(pair.ingress?.conditions).toEqual({ delayMs: 5 });
    const late: number[] = [];
    pair.ingress?.send(10, () => late.push(1));
    closeLinkPair(pair);
    expect(pair.ingress?.send(10, () => late.push(2))).toBe("blackout");
    expect(late).toEqual([]);
    expect(told).toEqual([["ingress", "blackout"]]);
  });
});

describe("throughLink", () => {
  test("with no link it is the function itself", () => {
    const deliver = (_data: Uint8Array, _port: number) => {};
    expect(throughLink(undefined, deliver)).toBe(deliver);
  });

  test("with a link it passes a copy (a Buffer) through it, so the caller may reuse its buffer", () => {
    const { ingress } = createLinkPair({ ingress: { loss: 0 } });
    const got: Array<[Uint8Array, number]> = [];
    const wrapped = throughLink(ingress, (data: Uint8Array, port: number) => got.push([data, port]));
    const buffer = new Uint8Array([1, 2, 3]);
    wrapped(buffer, 4433);
    buffer[0] = 9;
    expect(got).toHaveLength(1);
    expect([...(got[0]?.[0] ?? [])]).toEqual([1, 2, 3]);
    expect(Buffer.isBuffer(got[0]?.[0])).toBe(true);
    expect(got[0]?.[1]).toBe(4433);
  });

  test("a packet the link drops is never delivered", () => {
    const { egress } = createLinkPair({ egress: { loss: 1 } });
    const got: Uint8Array[] = [];
    const wrapped = throughLink(egress, (data: Uint8Array) => got.push(data));
    for (let i = 0; i < 10; i++) wrapped(new Uint8Array(100));
    expect(got).toEqual([]);
    expect(egress?.stats.lost).toBe(10);
  });
});
