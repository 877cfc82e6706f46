/**
 * Joins the two halves of what the page knows about a frame, both keyed by its RTP timestamp: the detection (its
 * {@link Coordinates}, from the worker reading the decoded `VideoFrame`) and the presentation (requestVideoFrameCallback, when the
 * compositor showed it). Only the page's samples need the presentation (glass-to-glass); the coordinates leave at
 * detection. A detection whose frame is never presented (the compositor skipped it, or the tab is hidden) is
 * released with `presentedAtMs: null` as soon as a later frame is presented, or after `maxWaitMs`.
 */
import type { Coordinates } from "@ballstream/protocol";
import type { Presentation } from "./display-times.ts";
import { type Joined, KeyedJoin } from "./keyed-join.ts";

/** A detection as the page sent it: its coordinates and when they were handed to the datagram writer (epoch ms). */
export interface SentDetection extends Coordinates {
  readonly sentAtMs?: number;
}

/** A detection with its presentation's times (all null: never presented). */
export type JoinedFrame = SentDetection & { readonly [K in keyof Presentation]: Presentation[K] | null };

const NOT_PRESENTED = { presentedAtMs: null, expectedDisplayMs: null, rvfcCaptureMs: null, absCaptureMs: null } as const;

/** How long a detection waits for its frame's presentation (ms). */
export const FRAME_JOIN_WAIT_MS = 200;

/** Pairs detections with presentations; bounded memory. */
export class FrameJoiner {
  readonly #join: KeyedJoin<SentDetection, Presentation>;

  constructor(maxWaitMs = FRAME_JOIN_WAIT_MS, maxPending = 64) {
    this.#join = new KeyedJoin(maxWaitMs, maxPending);
  }

  /** Adds a detection; returns the frames now complete (an overflowing oldest one, unpresented). */
  detected(d: SentDetection): JoinedFrame[] {
    return this.#join.left(d.rtpTimestamp, d, d.decodedAtMs).map(joinedFrame);
  }

  /** Adds a presentation; returns the frames now complete (older unpresented ones first). */
  presented(rtpTimestamp: number, presentation: Presentation): JoinedFrame[] {
    return [...this.#join.releaseBefore(rtpTimestamp), ...this.#join.right(rtpTimestamp, presentation, presentation.presentedAtMs)].map(joinedFrame);
  }

  /** Releases detections that waited longer than `maxWaitMs` at `nowMs` (epoch ms), unpresented. */
  expire(nowMs: number): JoinedFrame[] {
    return this.#join.expire(nowMs).map(joinedFrame);
  }
}

function joinedFrame({ left, right }: Joined<SentDetection, Presentation>): JoinedFrame {
  return { ...left, ...(right ?? NOT_PRESENTED) };
}
