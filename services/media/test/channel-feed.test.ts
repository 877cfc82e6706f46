/** ChannelFeed on the in-process bus: one subscription per replica and channel, keyframe requests coalesced, shared payloads. */
import { describe, expect, test } from "bun:test";
import { decodeJson, encodeVideoUnit, parseVideoWanted, rtpTimestampFromCaptureTime, subjects } from "@ballstream/protocol";
import { MemoryBus, createLogger } from "@ballstream/runtime";
import { type ChannelFrame, ChannelFeed, type ChannelFeedOptions, SOURCE_SILENCE_MS, VIDEO_WANTED_INTERVAL_MS, VIEWERS_PER_TURN, turnsOf } from "../src/channel-feed.ts";
import { toAnnexB } from "../src/annexb.ts";

const SOURCE = "channelFeedTestSource0";
const log = createLogger("channel-feed-test", { level: "error" });

function setup(overrides: Partial<ChannelFeedOptions> = {}) {
  const bus = new MemoryBus(log);
  const wanted: boolean[] = [];
  bus.subscribe(subjects.videoWanted(SOURCE), (m) => wanted.push(parseVideoWanted(decodeJson(m.data)).keyframe));
  const outcomes: string[] = [];
  const feed = new ChannelFeed({ bus, log, source: SOURCE, maxPayloadBytes: 1200, keyframeGapMs: 100, onKeyframeRequest: (o) => outcomes.push(o), ...overrides });
  const viewer = () => {
    const frames: ChannelFrame[] = [];
    return { frames, deliver: (f: ChannelFrame): void => void frames.push(f) };
  };
  const unit = (frameId: number, keyframe: boolean, bytes = 100) =>
    bus.publish(subjects.video(SOURCE), encodeVideoUnit({ frameId, captureTimeMs: 1000 + frameId, keyframe, data: toAnnexB([Uint8Array.from({ length: bytes }, (_, i) => (i === 0 ? (keyframe ? 0x65 : 0x41) : 7))]) }));
  return { bus, wanted, outcomes, feed, viewer, unit };
}

describe("ChannelFeed", () => {
  test("viewers share one subscription and the same payload objects; the last one out unsubscribes", async () => {
    const { feed, viewer, unit } = setup();
    const a = viewer();
    const b = viewer();
    unit(1, true); // nobody attached: nobody subscribed
    feed.attach(a);
    feed.attach(b);
    unit(2, true, 3000);
    await Bun.sleep(5);
    expect(a.frames.length).toBe(1);
    expect(a.frames[0]!.payloads.length).toBe(3); // 3000 bytes → three FU-A fragments
    expect(a.frames[0]!.payloads[1]).toBe(b.frames[0]!.payloads[1]!); // the same bytes, not a copy per viewer
    expect(a.frames[0]!.timestamp).toBe(rtpTimestampFromCaptureTime(1002));
    expect(feed.detach(a)).toBe(false);
    expect(feed.detach(b)).toBe(true);
    unit(3, false);
    await Bun.sleep(5);
    expect(b.frames.length).toBe(1);
    expect(feed.stats.units).toBe(1);
  });

  test("new viewers and PLIs within the gap cost one keyframe request, the waiting one goes after the gap", async () => {
    const { feed, viewer, wanted, outcomes } = setup();
    feed.attach(viewer()); // sent at once
    feed.attach(viewer()); // within the gap: waits
    feed.requestKeyframe(); // waits with it
    await Bun.sleep(5);
    expect(wanted).toEqual([true]);
    expect(outcomes).toEqual(["sent", "coalesced", "coalesced"]);
    await Bun.sleep(150);
    expect(wanted).toEqual([true, true]); // one more after the gap, for both waiting requests
    feed.close();
  });

  test("a keyframe from the source answers the waiting requests", async () => {
    const { feed, viewer, wanted, unit } = setup();
    feed.attach(viewer());
    feed.requestKeyframe(); // waits for the gap
    unit(1, true); // …but the source sent one anyway (another replica asked)
    await Bun.sleep(150);
    expect(wanted).toEqual([true]);
    feed.close();
  });

  test("a request made after a keyframe answered the earlier ones is not lost when the waiting timer fires early", async () => {
    const { feed, viewer, wanted, unit } = setup();
    feed.attach(viewer()); // sent at once: the gap starts
    feed.requestKeyframe(); // waits: a timer for the end of the gap
    await Bun.sleep(40);
    unit(1, true); // the keyframe comes: it answers the waiting request and starts a new gap
    await Bun.sleep(10);
    feed.requestKeyframe(); // a new viewer: waits for the new gap, which ends after the timer fires
    await Bun.sleep(250);
    expect(wanted).toEqual([true, true]);
    feed.close();
  });

  test("a malformed unit is counted and dropped; the viewers get the next good one", async () => {
    const { bus, feed, viewer, unit } = setup();
    const a = viewer();
    feed.attach(a);
    bus.publish(subjects.video(SOURCE), Uint8Array.of(9, 9, 9));
    unit(5, true);
    await Bun.sleep(5);
    expect(feed.stats.malformed).toBe(1);
    expect(a.frames.map((f) => f.frameId)).toEqual([5]);
    feed.close();
  });

  test("a source silent while wanted is reported once per silence; videoWanted keeps going meanwhile", async () => {
    let silent = 0;
    const { feed, viewer, wanted, unit } = setup({ onSourceSilent: () => silent++ });
    feed.attach(viewer());
    await Bun.sleep(SOURCE_SILENCE_MS + VIDEO_WANTED_INTERVAL_MS + 200);
    expect(silent).toBe(1);
    expect(wanted.filter((k) => !k).length).toBeGreaterThanOrEqual(2);
    unit(1, true); // the source is back: a later silence is reported again
    await Bun.sleep(5);
    expect(silent).toBe(1);
    feed.close();
  }, 10_000);

  test("a frame reaches many viewers a group per turn of the event loop, each viewer's frames in order, a different first viewer each frame", async () => {
    const { feed, viewer, unit } = setup();
    const viewers = Array.from({ length: 2 * VIEWERS_PER_TURN + 3 }, () => viewer());
    for (const v of viewers) feed.attach(v);
    const order: number[] = [];
    viewers.forEach((v, i) => {
      const deliver = v.deliver;
      v.deliver = (f) => {
        if (f.frameId === 2) order.push(i);
        deliver(f);
      };
    });
    unit(1, true);
    await Bun.sleep(5);
    unit(2, false);
    unit(3, false); // arrives before frame 2 reached everyone: frame 2 is finished first
    await Bun.sleep(5);
    for (const v of viewers) expect(v.frames.map((f) => f.frameId)).toEqual([1, 2, 3]);
    expect(order[0]).toBe(2); // the second unit the feed took starts at viewer 2 (the first at viewer 1)
    expect(new Set(order).size).toBe(viewers.length);
    feed.close();
  });
});

describe("turnsOf", () => {
  test("groups of perTurn from start round to start − 1", () => {
    expect(turnsOf([0, 1, 2, 3, 4], 3, 2)).toEqual([[3, 4], [0, 1], [2]]);
    expect(turnsOf([0, 1, 2], 0, 16)).toEqual([[0, 1, 2]]);
    expect(turnsOf([], 0, 4)).toEqual([]);
  });
});
