/** A small dependency-free SVG line chart for docs/benchmarks.md (latency over time, latency vs sessions). */

/** One line of the chart. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color: string;
  /** Draw a dot at every point (for sparse series). */
  readonly markers?: boolean;
}

/** A dashed horizontal reference line (a target). */
export interface ReferenceLine {
  readonly y: number;
  readonly label: string;
  readonly color: string;
}

/** What {@link lineChart} draws. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly references?: readonly ReferenceLine[];
  readonly width?: number;
  readonly height?: number;
  /** Lower bound of the y axis (default: 0). */
  readonly yMin?: number;
  /** Upper bound of the y axis (default: the data's maximum); larger values are drawn at the top edge. */
  readonly yMax?: number;
}

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/**
 * About `count` round tick values (steps of 1, 2 or 5 × 10^k) covering [min, max]. A degenerate range is widened
 * to one unit so that there is always more than one tick.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError("tick range must be finite");
  if (max < min) [min, max] = [max, min];
  if (max === min) max = min + 1;
  const rough = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= rough) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toFixed(10)));
  return ticks;
}

const fmt = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1));

/** Renders the chart as a standalone SVG document. Non-finite points are skipped (they break the line). */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 720;
  const H = spec.height ?? 360;
  const longest = Math.max(1, ...spec.series.map((x) => x.name.length));
  const legendColumns = Math.max(1, Math.min(4, Math.floor((W - 74) / (longest * 7 + 30))));
  const legendRows = Math.ceil(spec.series.length / legendColumns);
  const m = { left: 58, right: 16, top: 34, bottom: 46 + 16 * legendRows };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const pts = spec.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const refs = spec.references ?? [];
  const xs = pts.map(([x]) => x);
  const ys = [...pts.map(([, y]) => y), ...refs.map((r) => r.y)];
  const xTicks = niceTicks(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, 8);
  const yTicks = niceTicks(spec.yMin ?? 0, spec.yMax ?? (ys.length ? Math.max(...ys) : 1), 6);
  const [x0, x1] = [xTicks[0]!, xTicks.at(-1)!];
  const [y0, y1] = [yTicks[0]!, yTicks.at(-1)!];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + ph - ((Math.max(y0, Math.min(y1, y)) - y0) / (y1 - y0)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of yTicks) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of xTicks) out.push(`<text x="${sx(t).toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 34}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  refs.forEach((r, i) => {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(r.y).toFixed(1)}" y2="${sy(r.y).toFixed(1)}" stroke="${r.color}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.left + pw - 4 - i * 170}" y="${(sy(r.y) - 4).toFixed(1)}" text-anchor="end" fill="${r.color}">${escapeXml(r.label)}</text>`);
  });
  for (const s of spec.series) {
    const segments: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && Number.isFinite(y)) segments.at(-1)!.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      else if (segments.at(-1)!.length) segments.push([]);
    }
    for (const seg of segments) if (seg.length) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${seg.join(" ")}"/>`);
    if (s.markers) for (const seg of segments) for (const p of seg) { const [cx, cy] = p.split(","); out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`); }
  }
  spec.series.forEach((s, i) => {
    const lx = m.left + (i % legendColumns) * (pw / legendColumns);
    const ly = H - 8 - (legendRows - 1 - Math.floor(i / legendColumns)) * 16;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
