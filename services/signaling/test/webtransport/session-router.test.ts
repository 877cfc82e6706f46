/** Routing the state machine's events to admission and Session objects, and the bytes unread streams hold (pure logic). */
import { describe, expect, test } from "bun:test";
import { createLogger } from "@ballstream/runtime";
import { admission, allowOrigins } from "../../src/webtransport/admission.ts";
import { H3_ERROR } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, encodeFrame } from "../../src/webtransport/frames.ts";
import { resolveLimits } from "../../src/webtransport/limits.ts";
import { encodeFieldSection } from "../../src/webtransport/qpack.ts";
import type { Session } from "../../src/webtransport/session.ts";
import { SessionRouter } from "../../src/webtransport/session-router.ts";
import type { AdmissionPolicy, WebTransportRefusal, WebTransportRequest } from "../../src/webtransport/types.ts";
import { FakeHost } from "./fake-host.ts";
import { connectFields } from "./quic-client.ts";

const log = createLogger("router-test", { level: "silent", pretty: false });
const CONNECT = encodeFrame(
  FRAME_TYPE.headers,
  encodeFieldSection(connectFields("http://ok", "/wt", "x")),
);

/** A router over a real machine; `connect(streamId)` feeds a CONNECT through both, as the driver does. */
function router(accept: AdmissionPolicy = admission(), limits = {}) {
  const host = new FakeHost();
  const accepted: Session[] = [];
  const refusals: WebTransportRefusal[] = [];
  const ctx = { limits: resolveLimits(limits), accept, sessionAccepted: (s: Session) => accepted.push(s), refused: (r: WebTransportRefusal) => refusals.push(r) };
  const sessions = new SessionRouter(host, host.machine, ctx, { traceId: "t", remoteAddress: "127.0.0.1:9", log });
  const connect = (streamId: number) => {
    const answers = host.machine.receiveStream(streamId, CONNECT, false).flatMap((event) => (event.type === "send" ? [event] : sessions.handle(event as never)));
    for (const out of answers) if (out.type === "sessionOpened") sessions.handle(out);
    return answers;
  };
  return { host, sessions, accepted, refusals, connect };
}

describe("SessionRouter", () => {
  test("a CONNECT goes to the policy with its address and session count; accepted ones become sessions", () => {
    const seen: WebTransportRequest[] = [];
    const r = router((request) => (seen.push(request), request.connectionSessions < 1 ? "accept" : 429));
    expect(r.connect(0).map((o) => o.type)).toEqual(["send", "sessionOpened"]);
    expect(r.accepted.map((s) => [s.id, s.path, s.origin, s.remoteAddress])).toEqual([["t/0", "/wt", "http://ok", "127.0.0.1:9"]]);
    expect(r.connect(4).map((o) => o.type)).toEqual(["send"]);
    expect(seen.map((s) => [s.remoteAddress, s.connectionSessions])).toEqual([["127.0.0.1:9", 0], ["127.0.0.1:9", 1]]);
    expect(r.refusals).toEqual(["too_many_sessions"]);
  });

  test("refusals are counted by status; a throwing policy refuses with 500; a 400 from the machine is counted", () => {
    const r = router(admission(allowOrigins(["http://other"])));
    r.connect(0);
    const thrower = router(() => {
      throw new Error("policy bug");
    });
    thrower.connect(0);
    r.sessions.handle({ type: "badRequest", streamId: 4, reason: "not a WebTransport CONNECT" });
    expect(r.refusals).toEqual(["forbidden", "bad_request"]);
    expect(thrower.refusals).toEqual(["bad_request"]);
    expect(thrower.accepted).toEqual([]);
  });

  test("a peer stream is accepted by its session, its bytes queue until read, then count no more", async () => {
    const r = router();
    r.connect(0);
    expect(r.sessions.handle({ type: "streamOpened", sessionId: 0, streamId: 4, bidirectional: true })).toEqual([]);
    r.sessions.handle({ type: "streamData", streamId: 4, data: new Uint8Array(300_000), fin: true });
    expect(r.sessions.queuedBytes).toBe(300_000);
    expect(r.sessions.paused(4)).toBe(true);
    expect(r.sessions.paused(8)).toBe(false);
    const { value: stream } = await r.accepted[0]!.incomingBidirectionalStreams.getReader().read();
    const reader = stream!.readable.getReader();
    expect((await reader.read()).value?.length).toBe(300_000);
    expect((await reader.read()).done).toBe(true);
    expect(r.sessions.queuedBytes).toBe(0);
  });

  test("streams over the session's limit, or of a removed session, are refused through the machine", () => {
    const r = router(admission(), { maxStreamsPerSession: 1 });
    r.connect(0);
    expect(r.sessions.handle({ type: "streamOpened", sessionId: 0, streamId: 6, bidirectional: false })).toEqual([]);
    expect(r.sessions.handle({ type: "streamOpened", sessionId: 0, streamId: 10, bidirectional: false })).toEqual([{ type: "stopSending", streamId: 10, code: H3_ERROR.requestRejected }]);
    r.sessions.remove(0);
    expect(r.sessions.handle({ type: "streamOpened", sessionId: 0, streamId: 14, bidirectional: false })).toHaveLength(1);
  });

  test("resets, datagrams and the end of a session reach their session; events of unknown ones are dropped", async () => {
    const r = router();
    r.connect(0);
    const session = r.accepted[0]!;
    r.sessions.handle({ type: "streamOpened", sessionId: 0, streamId: 6, bidirectional: false });
    const { value: readable } = await session.incomingUnidirectionalStreams.getReader().read();
    r.sessions.handle({ type: "streamReset", streamId: 6, code: 0x52e4a40fa8db + 7 });
    await expect(readable!.getReader().read()).rejects.toThrow("code 7");
    r.sessions.handle({ type: "datagram", sessionId: 0, payload: Uint8Array.of(1) });
    r.sessions.handle({ type: "datagram", sessionId: 4, payload: Uint8Array.of(2) });
    expect(Array.from((await session.datagrams.readable.getReader().read()).value!)).toEqual([1]);
    r.sessions.handle({ type: "sessionEnded", sessionId: 0, info: { closeCode: 3, reason: "peer" }, error: null });
    expect(await session.closed).toEqual({ closeCode: 3, reason: "peer" });
  });

  test("closeAll sends close capsules; endAll ends without; terminateStreams errors what is still open", async () => {
    const a = router();
    a.connect(0);
    a.sessions.closeAll("server closing");
    expect(a.host.closes).toEqual([{ closeCode: 0, reason: "server closing" }]);
    const b = router();
    b.connect(0);
    b.sessions.endAll();
    expect(await b.accepted[0]!.closed).toEqual({ closeCode: 0, reason: "" });
    expect(b.host.closes).toEqual([]);
    const c = router();
    c.connect(0);
    c.sessions.handle({ type: "streamOpened", sessionId: 0, streamId: 6, bidirectional: false });
    c.sessions.handle({ type: "streamData", streamId: 6, data: Uint8Array.of(1), fin: false });
    c.sessions.terminateStreams(new Error("connection closed"));
    expect(c.sessions.queuedBytes).toBe(0);
  });
});
