import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Socket, createSocket } from "node:dgram";
import { createLogger } from "@ballstream/runtime";
import { RTCPeerConnection, UdpTransport } from "werift";
import { SessionLink, createLinkMetrics, createRegistry } from "@ballstream/runtime";
import { impairIceSockets } from "../src/ice-link.ts";
import { iceSockets } from "../src/ice-socket-errors.ts";
import { UdpMux, bindingRequestUsername, installUdpMux, localUfragOf, stunClass } from "../src/udp-mux.ts";

const log = createLogger("test", { level: "silent" });

/** A STUN Binding request with USERNAME `username` (and a dummy attribute before it). */
function bindingRequest(username: string, type = 0x0001): Buffer {
  const name = Buffer.from(username);
  const padded = Math.ceil(name.length / 4) * 4;
  const body = Buffer.alloc(8 + 4 + padded);
  body.writeUInt16BE(0x8022, 0); // SOFTWARE, 4 bytes
  body.writeUInt16BE(4, 2);
  body.write("test", 4);
  body.writeUInt16BE(0x0006, 8);
  body.writeUInt16BE(name.length, 10);
  name.copy(body, 12);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length, 2);
  header.writeUInt32BE(0x2112a442, 4);
  return Buffer.concat([header, body]);
}

describe("STUN username", () => {
  test("bindingRequestUsername reads USERNAME of a Binding request, nothing from anything else", () => {
    expect(bindingRequestUsername(bindingRequest("abcd:wxyz"))).toBe("abcd:wxyz");
    expect(bindingRequestUsername(bindingRequest("ab:c"))).toBe("ab:c");
    expect(bindingRequestUsername(bindingRequest("abcd:wxyz", 0x0101))).toBeUndefined(); // a response
    expect(bindingRequestUsername(Buffer.from([0x80, 0x60, 0, 0, 1, 2, 3, 4]))).toBeUndefined(); // RTP
    expect(bindingRequestUsername(Buffer.alloc(19))).toBeUndefined();
    const cut = bindingRequest("abcd:wxyz");
    expect(bindingRequestUsername(cut.subarray(0, cut.length - 4))).toBeUndefined(); // attribute runs past the end
  });
  test("stunClass: request, indication, success, error; nothing for non-STUN", () => {
    expect(stunClass(bindingRequest("a:b"))).toBe("request");
    expect(stunClass(bindingRequest("a:b", 0x0011))).toBe("indication");
    expect(stunClass(bindingRequest("a:b", 0x0101))).toBe("success");
    expect(stunClass(bindingRequest("a:b", 0x0111))).toBe("error");
    expect(stunClass(Buffer.from([0x80, 0x60, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
  });
  test("localUfragOf: the part before the colon", () => {
    expect(localUfragOf("abcd:wxyz")).toBe("abcd");
    expect(localUfragOf(":wxyz")).toBeUndefined();
    expect(localUfragOf("abcd")).toBeUndefined();
  });
});

describe("UdpMux", () => {
  let mux: UdpMux;
  let peer: Socket;
  beforeAll(async () => {
    mux = await UdpMux.bind("127.0.0.1", 0, log);
    peer = createSocket("udp4");
    await new Promise<void>((resolve) => peer.bind(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    peer.close();
    await mux.close();
  });

  test("a Binding request for a registered ufrag reaches its transport; the address is then that transport's; unknown ones are dropped", async () => {
    const a = mux.transport();
    const b = mux.transport();
    expect([a.port, b.port]).toEqual([mux.address().port, mux.address().port]);
    mux.register("aaaa", [a]);
    mux.register("bbbb", [b]);
    const heard: string[] = [];
    a.onData = (data) => heard.push(`a:${bindingRequestUsername(data) ?? data.toString()}`);
    b.onData = (data) => heard.push(`b:${bindingRequestUsername(data) ?? data.toString()}`);
    const to = (data: Buffer) => peer.send(data, mux.address().port, "127.0.0.1");
    const dropped = mux.dropped;
    to(Buffer.from("not stun, unknown address"));
    to(bindingRequest("zzzz:peer")); // no such agent
    to(bindingRequest("bbbb:peer"));
    for (let i = 0; i < 100 && heard.length < 1; i++) await Bun.sleep(5);
    to(Buffer.from("rtp from the same address"));
    for (let i = 0; i < 100 && heard.length < 2; i++) await Bun.sleep(5);
    expect(heard).toEqual(["b:bbbb:peer", "b:rtp from the same address"]);
    expect(mux.dropped - dropped).toBe(2);

    // b answers through the shared socket; a closing releases nothing of b's
    const answers: string[] = [];
    peer.on("message", (d) => answers.push(d.toString()));
    await b.send(Buffer.from("answer"), ["127.0.0.1", peer.address().port]);
    for (let i = 0; i < 100 && answers.length < 1; i++) await Bun.sleep(5);
    expect(answers).toEqual(["answer"]);
    await a.close();
    to(Buffer.from("still b"));
    for (let i = 0; i < 100 && heard.length < 3; i++) await Bun.sleep(5);
    expect(heard.at(-1)).toBe("b:still b");
    await b.close();
    expect(mux.size).toBe(0);
  });

  test("a STUN response goes to the transport that sent the request, whoever last talked to that address", async () => {
    const [a, b] = [mux.transport(), mux.transport()];
    const heard: string[] = [];
    a.onData = (d) => heard.push(`a:${stunClass(d)}`);
    b.onData = (d) => heard.push(`b:${stunClass(d)}`);
    const request = bindingRequest("peer:aaaa");
    const peerAddress: [string, number] = ["127.0.0.1", peer.address().port];
    await a.send(request, peerAddress); // a asks…
    await b.send(Buffer.from("data"), peerAddress); // …then b talks to the same address (werift: one transport per local address)
    const response = Buffer.from(request);
    response.writeUInt16BE(0x0101, 0); // same transaction id
    peer.send(response, mux.address().port, "127.0.0.1");
    peer.send(Buffer.from("rtp"), mux.address().port, "127.0.0.1");
    for (let i = 0; i < 100 && heard.length < 2; i++) await Bun.sleep(5);
    expect(heard).toEqual(["a:success", "b:undefined"]);
    await Promise.all([a.close(), b.close()]);
  });

  test("installUdpMux: werift's peer connections gather on the one port, and uninstall puts werift's own sockets back", async () => {
    const uninstall = installUdpMux(mux);
    const ports: number[] = [];
    const pcs = [new RTCPeerConnection({ iceUseIpv6: false }), new RTCPeerConnection({ iceUseIpv6: false })];
    try {
      for (const pc of pcs) {
        pc.addTransceiver("video", { direction: "sendonly" });
        await pc.setLocalDescription(await pc.createOffer());
        for (let i = 0; i < 100 && pc.iceGatheringState !== "complete"; i++) await Bun.sleep(20);
        for (const m of pc.localDescription!.sdp.matchAll(/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/g)) ports.push(Number(m[1]));
      }
    } finally {
      uninstall();
      await Promise.all(pcs.map((pc) => pc.close()));
    }
    expect(ports.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ports)).toEqual(new Set([mux.address().port]));
    const own = await (UdpTransport as unknown as { init: (t: string) => Promise<{ port: number; close(): Promise<void> }> }).init("udp4");
    expect(own.port).not.toBe(mux.address().port);
    await own.close();
  });

  test("a session's emulated link wraps its virtual socket, not the shared one", async () => {
    const uninstall = installUdpMux(mux);
    const pc = new RTCPeerConnection({ iceUseIpv6: false, iceInterfaceAddresses: { udp4: "127.0.0.1" } });
    const link = new SessionLink(createLinkMetrics(createRegistry(), "media"));
    try {
      pc.addTransceiver("video", { direction: "sendonly" });
      await pc.setLocalDescription(await pc.createOffer());
      for (let i = 0; i < 100 && pc.iceGatheringState !== "complete"; i++) await Bun.sleep(20);
      impairIceSockets(pc, {}, createLinkMetrics(createRegistry(), "media"), link);
      link.set({ egress: { loss: 1 } });
      const arrived: string[] = [];
      const listener = (d: Buffer) => arrived.push(d.toString());
      peer.on("message", listener);
      iceSockets(pc)[0]!.send(Buffer.from("dropped by the session's link"), peer.address().port, "127.0.0.1");
      const other = mux.transport(); // another session on the same port, unimpaired
      await other.send(Buffer.from("other session"), ["127.0.0.1", peer.address().port]);
      for (let i = 0; i < 100 && arrived.length < 1; i++) await Bun.sleep(5);
      await Bun.sleep(30);
      peer.off("message", listener);
      expect(arrived).toEqual(["other session"]);
      await other.close();
    } finally {
      link.close();
      uninstall();
      await pc.close();
    }
  });
});
