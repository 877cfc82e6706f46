import { expect, test } from "bun:test";
import { createLogger } from "@ballstream/runtime";
import { RTCPeerConnection } from "werift";
import { guardIceSockets, iceSockets } from "../src/ice-socket-errors.ts";

test("iceSockets finds the ICE sockets; every one gets an error listener, so ECONNREFUSED from a vanished viewer does not end the process", async () => {
  const pc = new RTCPeerConnection({ iceUseIpv6: false, iceAdditionalHostAddresses: [], iceInterfaceAddresses: { udp4: "127.0.0.1" } });
  try {
    pc.addTransceiver("video", { direction: "sendonly" });
    await pc.setLocalDescription(await pc.createOffer());
    for (let i = 0; i < 100 && pc.iceGatheringState !== "complete"; i++) await Bun.sleep(20);
    const guarded = guardIceSockets(pc, createLogger("test", { level: "silent" }));
    expect(guarded).toBeGreaterThan(0);
    expect(iceSockets(pc)).toHaveLength(guarded);
    expect(guardIceSockets(pc, createLogger("test", { level: "silent" }))).toBe(0); // idempotent
    const socket = (pc.iceTransports[0]!.connection as unknown as { protocols: Array<{ transport: { socket: import("node:dgram").Socket } }> }).protocols[0]!.transport.socket;
    expect(() => socket.emit("error", Object.assign(new Error("recvmsg ECONNREFUSED"), { code: "ECONNREFUSED" }))).not.toThrow();
  } finally {
    await pc.close();
  }
});
