/**
 * Ball physics as a pure function of time: the centre moves in a straight line and reflects exactly off the four
 * edges of the frame (each axis folds independently, so corners are exact too). The generator draws frames with
 * it and signaling uses it to know where the ball is *now*, between two truths.
 */

/** Where and how fast the ball is at one instant, and the box it bounces in. Units: px, px/s, epoch ms. */
export interface BallState {
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
  readonly timeMs: number;
  readonly width: number;
  readonly height: number;
  readonly radius: number;
}

function foldAxis(p0: number, v: number, dtS: number, min: number, max: number): [pos: number, vel: number] {
  const span = max - min;
  if (span <= 0) return [min, v];
  const period = 2 * span;
  const unfolded = p0 - min + v * dtS;
  const m = ((unfolded % period) + period) % period;
  return m <= span ? [min + m, v] : [min + period - m, -v];
}

/** The ball's state at `timeMs` (before or after `state.timeMs`), with exact reflections off the edges. */
export function ballAt(state: BallState, timeMs: number): BallState {
  const dtS = (timeMs - state.timeMs) / 1000;
  const r = state.radius;
  const [x, vx] = foldAxis(state.x, state.vx, dtS, r, state.width - r);
  const [y, vy] = foldAxis(state.y, state.vy, dtS, r, state.height - r);
  return { ...state, x, y, vx, vy, timeMs };
}

/** The same state with its speed (px/s) changed and its direction kept; a resting ball starts along the diagonal. */
export function withSpeed(state: BallState, speed: number): BallState {
  const current = Math.hypot(state.vx, state.vy);
  if (current === 0) {
    const c = speed / Math.SQRT2;
    return { ...state, vx: c, vy: c };
  }
  const k = speed / current;
  return { ...state, vx: state.vx * k, vy: state.vy * k };
}

/** Euclidean distance between two points, in px. */
export function distance(ax: number, ay: number, bx: number, by: number): number {
  return Math.hypot(ax - bx, ay - by);
}
