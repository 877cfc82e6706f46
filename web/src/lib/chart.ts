/** A cheap scrolling line chart on a 2D canvas: fixed-size ring buffers, one path per series per redraw. */

/** A bounded series of (time ms, value) points, oldest overwritten first. */
export class RollingSeries {
  readonly #t: Float64Array;
  readonly #v: Float64Array;
  #next = 0;
  #size = 0;

  constructor(
    readonly label: string,
    readonly colour: string,
    capacity = 2048,
  ) {
    this.#t = new Float64Array(capacity);
    this.#v = new Float64Array(capacity);
  }

  /** Appends a point; non-finite values are skipped. */
  push(timeMs: number, value: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(timeMs)) return;
    this.#t[this.#next] = timeMs;
    this.#v[this.#next] = value;
    this.#next = (this.#next + 1) % this.#t.length;
    this.#size = Math.min(this.#size + 1, this.#t.length);
  }

  /** Visits the points at or after `sinceMs`, oldest first. */
  forEachSince(sinceMs: number, f: (timeMs: number, value: number) => void): void {
    const n = this.#t.length;
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#next - this.#size + k + n) % n;
      if (this.#t[i]! >= sinceMs) f(this.#t[i]!, this.#v[i]!);
    }
  }

  /** Largest value at or after `sinceMs` (0 if none). */
  maxSince(sinceMs: number): number {
    let max = 0;
    this.forEachSince(sinceMs, (_t, v) => {
      if (v > max) max = v;
    });
    return max;
  }
}

/** The smallest 1, 2 or 5 × 10^k at or above `value` (at least 1): a readable axis top. */
export function niceCeil(value: number): number {
  if (!(value > 1)) return 1;
  const p = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * p >= value) return m * p;
  return 10 * p;
}

/** The part of CanvasRenderingContext2D the chart uses. */
export type ChartContext = Pick<
  CanvasRenderingContext2D,
  "clearRect" | "beginPath" | "moveTo" | "lineTo" | "stroke" | "fillText" | "strokeStyle" | "fillStyle" | "lineWidth" | "font"
>;

/** Draws the last `windowMs` of each series ending at `nowMs`, on a shared y axis from 0 to a nice maximum. */
export function drawChart(ctx: ChartContext, width: number, height: number, series: readonly RollingSeries[], nowMs: number, windowMs: number): number {
  const since = nowMs - windowMs;
  const top = niceCeil(Math.max(...series.map((s) => s.maxSince(since)), 1));
  ctx.clearRect(0, 0, width, height);
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#2a3242";
  ctx.fillStyle = "#7d8799";
  ctx.font = "11px system-ui, sans-serif";
  for (const f of [0.25, 0.5, 0.75, 1]) {
    const y = Math.round(height - f * (height - 4)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(width, y);
    ctx.stroke();
    ctx.fillText(String(+(f * top).toPrecision(3)), 4, y + 12);
  }
  ctx.lineWidth = 1.5;
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.beginPath();
    let first = true;
    s.forEachSince(since, (t, v) => {
      const x = ((t - since) / windowMs) * width;
      const y = height - (Math.min(v, top) / top) * (height - 4);
      if (first) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
      first = false;
    });
    ctx.stroke();
  }
  return top;
}
