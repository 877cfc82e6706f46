import { describe, expect, test } from "bun:test";
import { VideoStreamReader, encodeVideoUnit } from "@ballstream/protocol";
import { WebTransportError } from "../src/webtransport/mod.ts";
import { VIDEO_STREAM_ABANDONED, type VideoFraming, VideoSender } from "../src/video-sender.ts";

/** A viewer's streams as the sender sees them: each a writable whose sink takes a chunk only when `release`d. */
function viewer(options: { stalled?: boolean } = {}) {
  const streams: Array<{ frames: number[]; closed: boolean; abortCode: number | null }> = [];
  const holds: Array<() => void> = [];
  let keyframesAsked = 0;
  const openStream = async () => {
    const record = { frames: [] as number[], closed: false, abortCode: null as number | null };
    streams.push(record);
    const reader = new VideoStreamReader();
    // like the WebTransport layer's streams, an abort is seen at once (controller.signal), even during a write
    return new WritableStream<Uint8Array>({
      start: (c) => c.signal.addEventListener("abort", () => void (record.abortCode = c.signal.reason instanceof WebTransportError ? c.signal.reason.streamErrorCode : -1)),
      write: (chunk) =>
        new Promise<void>((resolve) => {
          const take = () => {
            record.frames.push(...reader.push(chunk).map((u) => u.frameId));
            resolve();
          };
          if (options.stalled) holds.push(take);
          else take();
        }),
      close: () => void (record.closed = true),
    });
  };
  return { streams, holds, openStream, asked: () => keyframesAsked, wantKeyframe: () => void keyframesAsked++ };
}

const unit = (frameId: number, keyframe: boolean, size = 100) => encodeVideoUnit({ frameId, captureTimeMs: 1000 + frameId, keyframe, data: new Uint8Array(size).fill(frameId & 0xff) });
const settle = () => Bun.sleep(5);
let clock = 0;
const sender = (v: ReturnType<typeof viewer>, framing: VideoFraming = "gop", maxQueuedBytes = 10_000, maxQueuedMs = 1000) =>
  new VideoSender({ openStream: v.openStream, wantKeyframe: v.wantKeyframe, framing, maxQueuedBytes, maxQueuedMs, now: () => clock });

describe("VideoSender", () => {
  test("gop: a viewer starts on a keyframe; each GOP on its own stream, the older one abandoned by the newer keyframe", async () => {
    const v = viewer();
    const s = sender(v);
    s.push(unit(1, false)); // before any keyframe: dropped
    s.push(unit(2, true));
    s.push(unit(3, false));
    s.push(unit(4, false));
    await settle();
    s.push(unit(5, true));
    s.push(unit(6, false));
    await settle();
    expect(v.streams.map((x) => x.frames)).toEqual([[2, 3, 4], [5, 6]]);
    expect(v.streams[0]!.abortCode).toBe(VIDEO_STREAM_ABANDONED);
    expect(v.streams[1]!.abortCode).toBeNull();
    expect(s.stats).toMatchObject({ units: 6, sent: 5, dropped: 1, streams: 2, abandoned: 1 });
  });

  test("frame: one stream per frame, each ended with FIN; a keyframe still abandons what is open", async () => {
    const v = viewer();
    const s = sender(v, "frame");
    for (const [id, key] of [[1, true], [2, false], [3, false]] as const) s.push(unit(id, key));
    await settle();
    expect(v.streams.map((x) => x.frames)).toEqual([[1], [2], [3]]);
    expect(v.streams.every((x) => x.closed && x.abortCode === null)).toBe(true);
  });

  test("a slow viewer: over the byte cap delta frames are dropped (what is queued still goes), a keyframe asked once the queue drains, then sent", async () => {
    const v = viewer({ stalled: true });
    const s = sender(v, "gop", 1000);
    s.push(unit(1, true, 400));
    for (let id = 2; id <= 10; id++) s.push(unit(id, false, 400));
    await settle();
    expect(s.stats.dropped).toBe(8); // 3 and on (1 and 2 fit under 1000 bytes)
    expect(s.queuedBytes).toBe(840); // nothing more than the cap waits
    expect([s.waitingForKeyframe, s.needsKeyframe, v.asked()]).toEqual([true, false, 0]); // not while the keyframe is on its way
    expect(v.streams[0]!.abortCode).toBeNull();
    while (v.holds.length > 0) {
      for (const take of v.holds.splice(0)) take();
      await settle();
    }
    expect(v.streams[0]!.frames).toEqual([1, 2]);
    expect(v.asked()).toBe(1);
    s.push(unit(11, false, 400)); // still waiting: dropped
    s.push(unit(12, true, 400));
    await settle();
    expect(v.streams.length).toBe(2);
    expect([s.waitingForKeyframe, s.stats.dropped]).toEqual([false, 9]);
  });

  test("a slow link: a delta frame that comes while a unit has waited longer than the age cap is dropped; a newer keyframe supersedes the queue", async () => {
    const v = viewer({ stalled: true });
    const s = sender(v, "gop", 1_000_000, 250);
    s.push(unit(1, true));
    clock += 100;
    s.push(unit(2, false));
    await settle();
    expect(s.queuedMs).toBe(100);
    clock += 200; // the keyframe has waited 300 ms
    s.push(unit(3, false));
    expect(s.stats.dropped).toBe(1);
    expect(s.waitingForKeyframe).toBe(true);
    s.push(unit(4, true)); // the periodic keyframe
    await settle();
    expect(v.streams[0]!.abortCode).toBe(VIDEO_STREAM_ABANDONED);
    expect(s.queuedMs).toBe(0); // the new stream's keyframe waits from now
    expect(v.asked()).toBe(0);
  });

  test("a stream the page stops (or that cannot open) makes the sender wait for a keyframe and ask for one", async () => {
    const v = viewer();
    let fail = false;
    const s = new VideoSender({
      openStream: () => (fail ? Promise.reject(new Error("no credit")) : v.openStream()),
      wantKeyframe: v.wantKeyframe,
      framing: "gop",
      maxQueuedBytes: 10_000,
      maxQueuedMs: 1000,
      now: () => clock,
    });
    fail = true;
    s.push(unit(1, true));
    await settle();
    expect(v.asked()).toBe(1);
    s.push(unit(2, false));
    expect(s.stats.dropped).toBe(1);
    fail = false;
    s.push(unit(3, true));
    await settle();
    expect(v.streams.map((x) => x.frames)).toEqual([[3]]);
  });

  test("malformed units are counted and ignored; close abandons the open stream and ignores what follows", async () => {
    const v = viewer();
    const s = sender(v);
    s.push(new Uint8Array(3));
    s.push(unit(1, true));
    await settle();
    s.close();
    s.push(unit(2, true));
    await settle();
    expect(s.stats.malformed).toBe(1);
    expect(v.streams.length).toBe(1);
    expect(v.streams[0]!.abortCode).toBe(VIDEO_STREAM_ABANDONED);
  });
});
