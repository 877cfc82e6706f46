/**
 * What the video overlay shows, in video pixels: a ring on the true centre of the frame the last report was
 * about, and a cross on the centre the page detected in that same frame (echoed by the report). The page moves two
 * elements with CSS transforms to these points (compositor-only; no canvas to repaint and upload per frame).
 */
import type { ErrorReport } from "@ballstream/protocol";

/** A ring of `radius` around (x, y) and a cross at (x, y); null: not shown. */
export interface OverlayMarks {
  readonly ring: { readonly x: number; readonly y: number; readonly radius: number } | null;
  readonly cross: { readonly x: number; readonly y: number } | null;
}

/** Gap between the ball's edge and the ring, px. */
const RING_GAP_PX = 4;

/** The marks for the last report: ring on its frame's truth (when matched), cross on its detection (when found). */
export function overlayMarks(report: ErrorReport | null, ballRadius: number): OverlayMarks {
  return {
    ring: report?.frameMatched ? { x: report.frameTruthX, y: report.frameTruthY, radius: ballRadius + RING_GAP_PX } : null,
    cross: report?.found ? { x: report.detectedX, y: report.detectedY } : null,
  };
}
