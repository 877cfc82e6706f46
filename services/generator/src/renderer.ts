/**
 * The drawing side of one session: keeps the ball's physics and produces, for a capture time, the encoded frame
 * and its encoded truth, both ready to publish. Runs inside the session's worker (and in benchmarks directly).
 */
import { type BallState, type SessionResume, type SessionSettings, type SessionUpdate, ballAt, withSpeed } from "@ballstream/protocol";
import { type FrameCompression, type FrameTruth, encodeFrame, encodeTruth } from "@ballstream/runtime/frames";
import { type BallRaster, createBallRaster } from "./raster.ts";

/** Direction of the first flight: not a diagonal, so the ball visits the whole frame rather than a loop. */
const START_ANGLE_RAD = (37 * Math.PI) / 180;

/** One frame, encoded for the bus. */
export interface RenderedFrame {
  readonly frameId: number;
  readonly captureTimeMs: number;
  readonly frame: Uint8Array;
  readonly truth: Uint8Array;
}

/** Where a session's ball starts: the centre of the frame at `startMs`, moving at `settings.speed`. */
export function initialBallState(settings: SessionSettings, startMs: number): BallState {
  return {
    x: settings.width / 2,
    y: settings.height / 2,
    vx: settings.speed * Math.cos(START_ANGLE_RAD),
    vy: settings.speed * Math.sin(START_ANGLE_RAD),
    timeMs: startMs,
    width: settings.width,
    height: settings.height,
    radius: settings.radius,
  };
}

/** Draws the frames of one session. */
export class FrameRenderer {
  readonly #sessionId: string;
  readonly #raster: BallRaster;
  readonly #compression: FrameCompression;
  #state: BallState;
  #fps: number;
  #nextFrameId = 0;

  /**
   * `compression` is how the encoded frames carry their pixels (see {@link FrameCompression}); with `resume` (a
   * takeover) the ball continues from that state and frame ids from its next one, instead of starting afresh.
   */
  constructor(sessionId: string, settings: SessionSettings, startMs: number, compression: FrameCompression = "none", resume?: SessionResume) {
    this.#sessionId = sessionId;
    this.#compression = compression;
    this.#raster = createBallRaster(settings.width, settings.height, settings.ballColor, settings.backgroundColor, settings.scene);
    this.#state = resume?.ball ?? initialBallState(settings, startMs);
    this.#nextFrameId = resume?.nextFrameId ?? 0;
    this.#fps = settings.fps;
  }

  /** The ball's state at `timeMs`. */
  ballAt(timeMs: number): BallState {
    return ballAt(this.#state, timeMs);
  }

  /**
   * Applies a live change from `timeMs` on: a new speed keeps position and direction (the trajectory stays
   * continuous); a new fps is written into every frame that follows, so media learns it from the frames.
   */
  update(update: SessionUpdate, timeMs: number): void {
    this.#fps = update.fps ?? this.#fps;
    if (update.speed !== undefined) this.#state = withSpeed(ballAt(this.#state, timeMs), update.speed);
  }

  /** Draws the frame captured at `captureTimeMs` and encodes it with its truth. */
  render(captureTimeMs: number): RenderedFrame {
    const s = ballAt(this.#state, captureTimeMs);
    const truth: FrameTruth = {
      sessionId: this.#sessionId,
      frameId: this.#nextFrameId,
      captureTimeMs,
      x: s.x,
      y: s.y,
      vx: s.vx,
      vy: s.vy,
      width: s.width,
      height: s.height,
      radius: s.radius,
    };
    this.#nextFrameId = (this.#nextFrameId + 1) >>> 0;
    const pixels = this.#raster.draw(s.x, s.y, s.radius, captureTimeMs);
    const frame = encodeFrame({ ...truth, fps: this.#fps, pixelFormat: "I420", pixels }, this.#compression, this.#raster.flatRegion());
    return { frameId: truth.frameId, captureTimeMs, frame, truth: encodeTruth(truth) };
  }
}
