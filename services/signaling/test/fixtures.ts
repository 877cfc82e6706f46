/** Test helpers shared by signaling's unit tests. */
import type { FrameTruth } from "@ballstream/runtime";

/** A truth of frame `frameId` in a 640×480 box, ball moving right at 100 px/s. */
export function truthAt(frameId: number, captureTimeMs: number, x = 100, y = 200, vx = 100, vy = 0): FrameTruth {
  return { sessionId: "AAAAAAAAAAAAAAAAAAAAAA", frameId, captureTimeMs, x, y, vx, vy, width: 640, height: 480, radius: 20 };
}
