/**
 * One channel's access units on one media replica, shared by the channel's viewers here: the replica subscribes to
 * the source's `video` only while it has a viewer of the channel, cuts each unit into RTP payloads once
 * ({@link h264Payloads}) and hands the same payloads to every viewer, who numbers and protects them itself. It keeps
 * the source publishing (`videoWanted` every second) and passes keyframe requests on — new viewers and PLIs of all
 * its viewers coalesced to at most one per `keyframeGapMs` ({@link KeyframeCoalescer}; the source coalesces the
 * replicas' requests the same way). A source silent for {@link SOURCE_SILENCE_MS} while wanted is reported once per
 * silence, so the replica can have another one started. A frame reaches its viewers {@link VIEWERS_PER_TURN} at a
 * time, one turn of the event loop each, starting one viewer further each frame: between turns the replica reads
 * its sockets and its own encoders' output (one synchronous loop over 100 viewers held the channel's encoder up
 * until it dropped frames, for every viewer), and no viewer is always served last.
 */
import type { Bus, BusSubscription, Logger } from "@ballstream/runtime";
import { type VideoUnit, decodeVideoUnit, encodeJson, nowMs, rtpTimestampFromCaptureTime, subjects, type VideoWanted } from "@ballstream/protocol";
import { splitAnnexB } from "./annexb.ts";
import { KeyframeCoalescer } from "./keyframe-coalescer.ts";
import { h264Payloads } from "./rtp-packetizer.ts";
import { absCaptureTime } from "./codec.ts";

/** One access unit of a channel, ready for any viewer: RTP timestamp and payloads (shared; never modify them). */
export interface ChannelFrame {
  readonly frameId: number;
  readonly keyframe: boolean;
  readonly timestamp: number;
  readonly payloads: readonly Buffer[];
  /** The abs-capture-time extension payload of the frame, made once for every viewer. */
  readonly absCaptureTime: Buffer;
}

/** A viewer of a feed. */
export interface FeedViewer {
  deliver(frame: ChannelFrame): void;
}

/** Viewers sent a frame in one turn of the event loop. */
export const VIEWERS_PER_TURN = 16;

/**
 * `items` from index `start` round to `start − 1`, in groups of `perTurn`: the order a frame reaches a feed's viewers,
 * one group per turn of the event loop.
 */
export function turnsOf<T>(items: readonly T[], start: number, perTurn: number): T[][] {
  const n = items.length;
  const turns: T[][] = [];
  for (let i = 0; i < n; i += perTurn) {
    const turn: T[] = [];
    for (let j = i; j < Math.min(n, i + perTurn); j++) turn.push(items[(start + j) % n]!);
    turns.push(turn);
  }
  return turns;
}

/** How often a feed with viewers tells the source to keep publishing (it publishes for 3 s after each). */
export const VIDEO_WANTED_INTERVAL_MS = 1000;
/** A source that sent no unit for this long while wanted is reported silent. */
export const SOURCE_SILENCE_MS = 2000;

/** A frame on its way to a feed's viewers: the groups, and the next to send. */
interface InFlight {
  readonly frame: ChannelFrame;
  readonly turns: FeedViewer[][];
  next: number;
}

/** Options of a {@link ChannelFeed}. */
export interface ChannelFeedOptions {
  readonly bus: Bus;
  readonly log: Logger;
  /** The channel's source session id. */
  readonly source: string;
  readonly maxPayloadBytes: number;
  readonly keyframeGapMs: number;
  /** A keyframe request left this replica for the source (`sent`), or waits for the gap (`coalesced`). */
  readonly onKeyframeRequest?: (outcome: "sent" | "coalesced") => void;
  /** The source sent nothing for {@link SOURCE_SILENCE_MS} while wanted (once per silence). */
  readonly onSourceSilent?: () => void;
}

/** Counters of one feed. */
export interface ChannelFeedStats {
  units: number;
  malformed: number;
}

/** One channel on this replica. */
export class ChannelFeed {
  readonly source: string;
  readonly stats: ChannelFeedStats = { units: 0, malformed: 0 };
  readonly #options: ChannelFeedOptions;
  readonly #viewers = new Set<FeedViewer>();
  readonly #coalescer: KeyframeCoalescer;
  #sub: BusSubscription | undefined;
  #wantTimer: ReturnType<typeof setInterval> | undefined;
  #pendingTimer: ReturnType<typeof setTimeout> | undefined;
  #lastUnitMs = 0;
  #silenceReported = false;
  /** The frame still on its way to some viewers, and the turns left. */
  #inFlight: InFlight | undefined;

  constructor(options: ChannelFeedOptions) {
    this.source = options.source;
    this.#options = options;
    this.#coalescer = new KeyframeCoalescer(options.keyframeGapMs);
  }

  /** Viewers here now. */
  get viewers(): number {
    return this.#viewers.size;
  }

  /** Adds a viewer (the first subscribes to the source) and asks for a keyframe: it starts on one. */
  attach(viewer: FeedViewer): void {
    this.#viewers.add(viewer);
    if (this.#sub === undefined) {
      this.#sub = this.#options.bus.subscribe(subjects.video(this.source), (msg) => this.#onUnit(msg.data));
      this.#lastUnitMs = nowMs();
      this.#wantTimer = setInterval(() => this.#keepWanting(), VIDEO_WANTED_INTERVAL_MS);
    }
    this.requestKeyframe();
  }

  /** Removes a viewer; returns true when none is left (the feed has then unsubscribed: drop it). */
  detach(viewer: FeedViewer): boolean {
    this.#viewers.delete(viewer);
    if (this.#viewers.size > 0) return false;
    this.close();
    return true;
  }

  /** A viewer needs a keyframe: sent to the source now, or when the gap since the last one has passed. */
  requestKeyframe(): void {
    this.#coalescer.request();
    if (this.#coalescer.take(nowMs())) {
      this.#want(true);
      this.#options.onKeyframeRequest?.("sent");
      return;
    }
    this.#options.onKeyframeRequest?.("coalesced");
    if (this.#pendingTimer === undefined) this.#waitForGap();
  }

  /** Sends the waiting request when the gap has passed; a keyframe that came meanwhile starts a new gap, waited for again. */
  #waitForGap(): void {
    this.#pendingTimer = setTimeout(() => {
      this.#pendingTimer = undefined;
      if (this.#coalescer.take(nowMs())) this.#want(true);
      else if (this.#coalescer.pending) this.#waitForGap();
    }, Math.max(1, this.#coalescer.readyInMs(nowMs())));
  }

  /** Unsubscribes and stops the timers (idempotent). */
  close(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    clearInterval(this.#wantTimer);
    clearTimeout(this.#pendingTimer);
    this.#pendingTimer = undefined;
  }

  #keepWanting(): void {
    const silentMs = nowMs() - this.#lastUnitMs;
    if (silentMs > SOURCE_SILENCE_MS && !this.#silenceReported) {
      this.#silenceReported = true;
      this.#options.log.warn({ source: this.source, silentMs: Math.round(silentMs) }, "the channel's source is silent");
      this.#options.onSourceSilent?.();
    }
    this.#want(false);
  }

  #want(keyframe: boolean): void {
    try {
      this.#options.bus.publish(subjects.videoWanted(this.source), encodeJson({ keyframe } satisfies VideoWanted));
    } catch (err) {
      this.#options.log.warn({ err }, "videoWanted not published");
    }
  }

  #onUnit(data: Uint8Array): void {
    let unit: VideoUnit;
    try {
      unit = decodeVideoUnit(data);
    } catch (err) {
      if (this.stats.malformed++ === 0) this.#options.log.warn({ err }, "malformed access unit dropped");
      return;
    }
    this.stats.units++;
    this.#lastUnitMs = nowMs();
    this.#silenceReported = false;
    // A keyframe from the source, whoever asked for it, answers this replica's waiting requests too.
    if (unit.keyframe) this.#coalescer.made(this.#lastUnitMs);
    const frame: ChannelFrame = {
      frameId: unit.frameId,
      keyframe: unit.keyframe,
      timestamp: rtpTimestampFromCaptureTime(unit.captureTimeMs),
      payloads: h264Payloads(splitAnnexB(unit.data), this.#options.maxPayloadBytes),
      absCaptureTime: absCaptureTime(unit.captureTimeMs),
    };
    // The last frame's remaining viewers first: each viewer's frames must go out in order.
    while (this.#inFlight !== undefined) this.#turn(this.#inFlight);
    const viewers = [...this.#viewers];
    if (viewers.length === 0) return;
    this.#inFlight = { frame, turns: turnsOf(viewers, this.stats.units % viewers.length, VIEWERS_PER_TURN), next: 0 };
    this.#turn(this.#inFlight);
  }

  /** Sends the frame to the next group of its viewers; schedules the group after it on the next turn. */
  #turn(flight: InFlight): void {
    if (this.#inFlight !== flight) return; // finished meanwhile (a newer frame flushed it)
    for (const viewer of flight.turns[flight.next++]!) viewer.deliver(flight.frame);
    if (flight.next >= flight.turns.length) this.#inFlight = undefined;
    else setImmediate(() => this.#turn(flight));
  }
}
