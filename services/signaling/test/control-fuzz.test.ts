/**
 * The format-aware fuzzer (shared/src/testing/control-fuzz.ts) against a viewer session, in process: every hostile
 * control-stream input ends with an `error` message to the page and a close with a non-normal code, nothing is left
 * unhandled in the process, and hostile datagrams are dropped and counted while the session serves on. The same
 * cases travel over real QUIC in e2e/reliability/fuzz.reliability.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLOSE_CODES, decodeErrorReport, encodeCoordinates, parseMediaOfferRequest, parseStartSessionRequest, rtpTimestampFromCaptureTime, subjects } from "@ballstream/protocol";
import { MemoryBus, createLogger, encodeTruth, serveJson } from "@ballstream/runtime";
import { controlFuzzCases, datagramFuzzCases, CHROMIUM_OFFER } from "@ballstream/testing";
import { ViewerSession } from "../src/viewer-session.ts";
import { FakeWebTransportSession } from "./fake-webtransport.ts";
import { truthAt } from "./fixtures.ts";

const log = createLogger("fuzz", { level: "silent" });
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => void unhandled.push(err);

/** A bus whose generator and media accept everything: a case that slipped past validation would stream, not fail. */
function acceptingBus(): MemoryBus {
  const bus = new MemoryBus();
  serveJson(bus, subjects.generatorStart, parseStartSessionRequest, (req) => req.settings, log);
  serveJson(bus, subjects.mediaOffer, parseMediaOfferRequest, () => ({ sdp: "answer" }), log);
  return bus;
}

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
});

afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
});

describe("control fuzzing, in process", () => {
  test("every hostile control input ends with an error message and a non-normal close; nothing unhandled", async () => {
    const bus = acceptingBus();
    const cases = controlFuzzCases(2000);
    expect(cases.length).toBeGreaterThan(2040);
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += 50) {
      await Promise.all(
        cases.slice(i, i + 50).map(async (c) => {
          const wt = new FakeWebTransportSession();
          const session = new ViewerSession(wt, { bus, log, requestTimeoutMs: 1000, offerTimeoutMs: 5000 });
          const control = wt.openStream();
          control.sendBytes(c.bytes);
          if (c.fin) control.end();
          const ended = await Promise.race([session.done.then(() => true), Bun.sleep(3000).then(() => false)]);
          const error = control.received.find((m) => m.type === "error");
          if (!ended || !error || wt.closeInfo?.closeCode === CLOSE_CODES.normal) {
            failures.push(`${c.label}: ended=${ended} error=${JSON.stringify(error)} close=${JSON.stringify(wt.closeInfo)}`);
            await session.end(CLOSE_CODES.normal, "fuzz case over");
          } else if (error.type === "error" && error.message.length > 600) {
            failures.push(`${c.label}: error message of ${error.message.length} chars echoes the input`);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  test("2,000 hostile datagrams are dropped and counted; the session then answers valid coordinates", async () => {
    const bus = acceptingBus();
    const wt = new FakeWebTransportSession();
    const session = new ViewerSession(wt, { bus, log, requestTimeoutMs: 1000, offerTimeoutMs: 5000 });
    const control = wt.openStream();
    control.send({ type: "offer", sdp: CHROMIUM_OFFER });
    const { sessionId } = await control.next("session");
    await control.next("answer");
    for (const datagram of datagramFuzzCases(2000)) wt.sendDatagram(datagram);
    const t0 = 1_750_000_000_000;
    bus.publish(subjects.truth(sessionId), encodeTruth({ ...truthAt(1, t0), sessionId }));
    for (let i = 0; i < 300 && session.stats.malformedDatagrams < 2000; i++) await Bun.sleep(5);
    expect(session.stats.malformedDatagrams).toBe(2000);
    expect(wt.sentDatagrams).toHaveLength(0);
    wt.sendDatagram(encodeCoordinates({ rtpTimestamp: rtpTimestampFromCaptureTime(t0), found: true, x: 100, y: 200, decodedAtMs: t0 + 5, detectMs: 1 }));
    for (let i = 0; i < 300 && wt.sentDatagrams.length === 0; i++) await Bun.sleep(5);
    expect(decodeErrorReport(wt.sentDatagrams[0]!).frameMatched).toBe(true);
    expect(wt.closeInfo).toBeUndefined();
    await session.end(CLOSE_CODES.normal, "test over");
    expect(unhandled).toEqual([]);
  });
});
