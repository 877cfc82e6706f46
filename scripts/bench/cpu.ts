/** CPU figures of measured process trees (% of one core, from ./capacity.ts's windows): sums, slopes, table cells, saturation. */
import type { TreeCpu } from "@ballstream/testing";

const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");

/** CPU of the trees named `names` (each with its children: ffmpeg below media), % of one core. */
export function treesCpuPct(cpu: readonly TreeCpu[], names: readonly string[]): number {
  return cpu.filter((c) => names.includes(c.name)).reduce((s, c) => s + c.selfPct + c.childrenPct, 0);
}

/**
 * CPU of one more unit of load (% of a core): the slope of {@link treesCpuPct} between the first and the last step
 * that held (NaN with fewer than two such steps at different counts).
 */
export function cpuSlope(steps: ReadonlyArray<{ readonly sessions: number; readonly cpu: readonly TreeCpu[]; readonly failure: string | null }>, names: readonly string[]): number {
  const held = steps.filter((s) => s.failure === null);
  const [a, b] = [held[0], held.at(-1)];
  return a && b && b.sessions > a.sessions ? (treesCpuPct(b.cpu, names) - treesCpuPct(a.cpu, names)) / (b.sessions - a.sessions) : Number.NaN;
}

/** A table cell with every tree's CPU: `media 20.0 + 5.0 children; …`. */
export function cpuCell(cpu: readonly TreeCpu[]): string {
  return cpu.map((c) => `${c.name} ${f(c.selfPct)}${c.childrenPct > 0.05 ? ` + ${f(c.childrenPct)} children` : ""}`).join("; ");
}

/** A process at or above this share of one core, on its own, is taken as saturated (its JavaScript runs on one thread). */
export const SATURATED_PCT = 85;

/**
 * What the CPU of a window says about the limit: the trees whose own process used at least {@link SATURATED_PCT} %
 * of a core, and the share of the machine's cores every measured tree used together.
 */
export function cpuLimit(cpu: readonly TreeCpu[], nproc: number): { readonly saturated: string[]; readonly machinePct: number } {
  const saturated = cpu.filter((c) => c.selfPct >= SATURATED_PCT).sort((a, b) => b.selfPct - a.selfPct).map((c) => `${c.name} (${f(c.selfPct)} %)`);
  const total = cpu.reduce((s, c) => s + c.selfPct + c.childrenPct, 0);
  return { saturated, machinePct: nproc > 0 ? total / nproc : Number.NaN };
}
