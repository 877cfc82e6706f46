import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Socket, createSocket } from "node:dgram";
import { SessionLink, createRegistry, createLinkMetrics } from "@ballstream/runtime";
import { RTCPeerConnection } from "werift";
import { impairIceSockets } from "../src/ice-link.ts";
import { iceSockets } from "../src/ice-socket-errors.ts";

let pc: RTCPeerConnection;
let peer: Socket;

beforeAll(async () => {
  pc = new RTCPeerConnection({ iceUseIpv6: false, iceAdditionalHostAddresses: [], iceInterfaceAddresses: { udp4: "127.0.0.1" } });
  pc.addTransceiver("video", { direction: "sendonly" });
  await pc.setLocalDescription(await pc.createOffer());
  for (let i = 0; i < 100 && pc.iceGatheringState !== "complete"; i++) await Bun.sleep(20);
  peer = createSocket("udp4");
  await new Promise<void>((resolve) => peer.bind(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  peer.close();
  await pc.close();
});

test("no conditions: nothing is wrapped", () => {
  expect(impairIceSockets(pc, {}, createLinkMetrics(createRegistry(), "media"))).toEqual([]);
  for (const socket of iceSockets(pc)) expect(Object.hasOwn(socket, "send")).toBe(false);
});

test("sends cross the egress link and werift's listeners hear only what comes out of the ingress link; counted in /metrics", async () => {
  const registry = createRegistry();
  const socket = iceSockets(pc)[0]!;
  const heard: string[] = [];
  socket.on("message", (data: Buffer) => heard.push(data.toString())); // stands for werift's listener: it goes behind the link too
  const pairs = impairIceSockets(pc, { egress: { loss: 1 }, ingress: { delayMs: 30 } }, createLinkMetrics(registry, "media"));
  expect(pairs).toHaveLength(iceSockets(pc).length);
  expect(impairIceSockets(pc, { egress: { loss: 1 } }, createLinkMetrics(createRegistry(), "media"))).toEqual([]); // once per socket

  const arrived: string[] = [];
  peer.on("message", (data) => arrived.push(data.toString()));
  socket.send(Buffer.from("to the viewer"), peer.address().port, "127.0.0.1");
  peer.send("from the viewer", socket.address().port, "127.0.0.1");
  const told = await new Promise<Error | null>((resolve) => socket.send(Buffer.from("with a callback"), peer.address().port, "127.0.0.1", resolve));
  expect(told).toBeNull(); // a dropped packet's callback still runs
  for (let i = 0; i < 100 && heard.length === 0; i++) await Bun.sleep(10);
  expect(heard).toEqual(["from the viewer"]);
  await Bun.sleep(100);
  expect(arrived).toEqual([]); // 100 % egress loss
  expect(pairs[0]!.egress!.stats.lost).toBe(2);
  expect(pairs[0]!.ingress!.stats.delivered).toBe(1);
  const text = await registry.metrics();
  expect(text).toContain('ballstream_media_net_packets_total{direction="egress",outcome="lost"} 2');
  expect(text).toContain('ballstream_media_net_packets_total{direction="ingress",outcome="delivered"} 1');
});

test("a session's own link sits behind the service's and changes live: dropped, then delayed, then untouched", async () => {
  const own = new RTCPeerConnection({ iceUseIpv6: false, iceAdditionalHostAddresses: [], iceInterfaceAddresses: { udp4: "127.0.0.1" } });
  own.addTransceiver("video", { direction: "sendonly" });
  await own.setLocalDescription(await own.createOffer());
  for (let i = 0; i < 100 && own.iceGatheringState !== "complete"; i++) await Bun.sleep(20);
  const registry = createRegistry();
  const metrics = createLinkMetrics(registry, "media");
  const link = new SessionLink(metrics);
  try {
    const socket = iceSockets(own)[0]!;
    const heard: string[] = [];
    socket.on("message", (data: Buffer) => heard.push(data.toString()));
    expect(impairIceSockets(own, {}, metrics, link)).toEqual([]); // no service link: only the session's is put on
    expect(Object.hasOwn(socket, "send")).toBe(true);
    const arrived: string[] = [];
    const listener = (data: Buffer) => arrived.push(data.toString());
    peer.on("message", listener);
    const to = [peer.address().port, "127.0.0.1"] as const;

    link.set({ egress: { loss: 1 }, ingress: { loss: 1 } });
    socket.send(Buffer.from("lost down"), ...to);
    peer.send("lost up", socket.address().port, "127.0.0.1");
    await Bun.sleep(60);
    expect([arrived, heard]).toEqual([[], []]);

    link.set({ egress: { delayMs: 40 } });
    const sentAt = performance.now();
    socket.send(Buffer.from("delayed"), ...to);
    peer.send("up again", socket.address().port, "127.0.0.1");
    for (let i = 0; i < 100 && arrived.length === 0; i++) await Bun.sleep(5);
    expect(arrived).toEqual(["delayed"]);
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(39);
    expect(heard).toEqual(["up again"]);

    link.set({});
    socket.send(Buffer.from("direct"), ...to);
    for (let i = 0; i < 100 && arrived.length < 2; i++) await Bun.sleep(5);
    expect(arrived).toEqual(["delayed", "direct"]);
    peer.off("message", listener);
    expect(await registry.metrics()).toContain('ballstream_media_net_packets_total{direction="egress",outcome="lost"} 1');
  } finally {
    link.close();
    await own.close();
  }
});
