/** The peer-connection readers (e2e/harness/peer-connections.ts), run against stand-ins of the page's objects. */
import { afterEach, describe, expect, test } from "bun:test";
import { keepPeerConnections, readIceRoute } from "./peer-connections.ts";

const g = globalThis as unknown as { RTCPeerConnection?: unknown; __pcs?: unknown[] };
const original = g.RTCPeerConnection;
afterEach(() => {
  g.RTCPeerConnection = original;
  delete g.__pcs;
});

/** A page whose `evaluate` runs the function here, where the stand-ins live. */
const localPage = { evaluate: <T>(fn: () => T | Promise<T>) => Promise.resolve(fn()) };

class FakePc {
  connectionState = "connected";
  localDescription = { sdp: "v=0\r\na=candidate:1 1 udp 1 0a1b.local 51000 typ host\r\n" };
  remoteDescription = { sdp: "v=0\r\na=candidate:1 1 udp 1 192.168.77.1 40000 typ host\r\n" };
  constructor(readonly config?: unknown) {}
  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    const list = [
      { id: "T", type: "transport", selectedCandidatePairId: "P" },
      { id: "P", type: "candidate-pair", localCandidateId: "L", remoteCandidateId: "R", nominated: true, state: "succeeded" },
      { id: "L", type: "local-candidate", address: "192.168.77.2", port: 51000, candidateType: "host" },
      { id: "R", type: "remote-candidate", address: "192.168.77.1", port: 40000, candidateType: "host" },
    ];
    return new Map(list.map((s) => [s.id, s]));
  }
}

describe("keepPeerConnections", () => {
  test("every RTCPeerConnection made afterwards is kept, and still is one", () => {
    g.RTCPeerConnection = FakePc;
    keepPeerConnections();
    const Pc = g.RTCPeerConnection as unknown as new (c?: unknown) => FakePc;
    const a = new Pc({ iceServers: [] });
    const b = new Pc();
    expect(g.__pcs).toEqual([a, b]);
    expect(a).toBeInstanceOf(FakePc);
    expect(a.config).toEqual({ iceServers: [] });
  });
});

describe("readIceRoute", () => {
  test("the last connection's selected pair and answer", async () => {
    g.__pcs = [new FakePc()];
    expect(await readIceRoute(localPage)).toEqual({
      localSdp: "v=0\r\na=candidate:1 1 udp 1 0a1b.local 51000 typ host\r\n",
      remoteSdp: "v=0\r\na=candidate:1 1 udp 1 192.168.77.1 40000 typ host\r\n",
      local: { address: "192.168.77.2", port: 51000, type: "host" },
      remote: { address: "192.168.77.1", port: 40000, type: "host" },
      connectionState: "connected",
    });
  });

  test("no pair selected yet: both ends null; no connection kept: a clear error", async () => {
    const pc = new FakePc();
    pc.getStats = async () => new Map([["T", { id: "T", type: "transport" }]]);
    g.__pcs = [pc];
    const route = await readIceRoute(localPage);
    expect([route.local, route.remote]).toEqual([null, null]);
    g.__pcs = [];
    await expect(readIceRoute(localPage)).rejects.toThrow(/no RTCPeerConnection/);
  });
});
