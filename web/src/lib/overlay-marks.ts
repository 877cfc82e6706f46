/**
 * What the video overlay shows, in video pixels: a ring on the true centre of the frame the last report was
 * about, and a cross on the last detected centre. The page moves two elements with CSS transforms to these
 * points (compositor-only; no canvas to repaint and upload per frame).
 */
import type { ErrorReport } from "@ballstream/shared/wt-protocol";

/** A ring of `radius` around (x, y) and a cross at (x, y); null: not shown. */
export interface OverlayMarks {
  readonly ring: { readonly x: number; readonly y: number; readonly radius: number } | null;
  readonly cross: { readonly x: number; readonly y: number } | null;
}

/** Gap between the ball's edge and the ring, px. */
const RING_GAP_PX = 4;

/** The marks for the last report (ring, when it matched a frame) and the last detection (cross, when found). */
export function overlayMarks(
  report: ErrorReport | null,
  detection: { readonly found: boolean; readonly x: number; readonly y: number } | null,
  ballRadius: number,
): OverlayMarks {
  return {
    ring: report?.frameMatched ? { x: report.frameTruthX, y: report.frameTruthY, radius: ballRadius + RING_GAP_PX } : null,
    cross: detection?.found ? { x: detection.x, y: detection.y } : null,
  };
}
