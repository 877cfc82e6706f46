/** dropDefaultStun on a real werift peer connection: the built-in Google STUN server goes unless one is configured. */
import { afterEach, expect, test } from "bun:test";
import { RTCPeerConnection } from "werift";
import { CHROMIUM_OFFER } from "@ballstream/testing";
import { h264Codec } from "../src/codec.ts";
import { dropDefaultStun } from "../src/ice-stun.ts";

const pcs: RTCPeerConnection[] = [];
afterEach(async () => {
  await Promise.all(pcs.splice(0).map((pc) => pc.close()));
});

async function offered(): Promise<RTCPeerConnection> {
  const pc = new RTCPeerConnection({ codecs: { video: [h264Codec()] }, iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: "127.0.0.1" } });
  pcs.push(pc);
  pc.addTransceiver("video", { direction: "sendonly" });
  await pc.setRemoteDescription({ type: "offer", sdp: CHROMIUM_OFFER });
  return pc;
}

const stunOf = (pc: RTCPeerConnection) => pc.iceTransports.map((t) => (t.connection as unknown as { stunServer?: unknown }).stunServer);

test("with no STUN server configured, werift's built-in one is removed from every transport; gathering then asks none", async () => {
  const pc = await offered();
  expect(stunOf(pc)).toEqual([["stun.l.google.com", 19302]]); // what werift does by itself
  expect(dropDefaultStun(pc, [{ urls: "turn:turn.example:3478", username: "u", credential: "c" }])).toBe(1);
  expect(stunOf(pc)).toEqual([undefined]);
  expect(dropDefaultStun(pc, [])).toBe(0); // nothing left to remove
  await pc.setLocalDescription(await pc.createAnswer());
  const started = performance.now();
  while (pc.iceGatheringState !== "complete" && performance.now() - started < 3000) await Bun.sleep(10);
  expect(pc.iceGatheringState).toBe("complete");
  expect(pc.localDescription?.sdp).not.toContain("typ srflx");
});

test("a configured STUN server is left alone", async () => {
  const pc = await offered();
  expect(dropDefaultStun(pc, [{ urls: ["stun:stun.example:3478"] }])).toBe(0);
  expect(stunOf(pc)).toEqual([["stun.l.google.com", 19302]]);
});
