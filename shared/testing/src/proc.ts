/**
 * What tests and benchmarks read of running processes from Linux `/proc`: process trees, and CPU time as
 * `/proc/<pid>/stat` utime + stime (the process's own threads) plus cutime + cstime (children it has reaped),
 * summed over the live descendants too, so that an ffmpeg encoder that starts, runs and exits inside a measurement
 * window is still counted.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** The fields of `/proc/<pid>/stat` we use. Times in clock ticks. */
export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly utime: number;
  readonly stime: number;
  /** Time of reaped children (user + system). */
  readonly childTime: number;
}

/**
 * Parses one `/proc/<pid>/stat` line. The command name sits in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the last `)`. Throws on a malformed line.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 1 || close < open) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  const rest = line.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field k is rest[k - 3].
  const field = (k: number): number => {
    const v = Number(rest[k - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc stat field ${k} missing or not a number`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    childTime: field(16) + field(17),
  };
}

/** Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless told otherwise). */
export function clockTicksPerSecond(): number {
  const r = Bun.spawnSync(["getconf", "CLK_TCK"]);
  const v = Number(r.stdout.toString().trim());
  return r.exitCode === 0 && v > 0 ? v : 100;
}

/** The stat of `pid`, or null when the process is gone (or not readable). */
export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** The stats of every process now visible in `/proc`. */
export function allProcStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** The processes below `root` (children, grandchildren, …) in a snapshot of `/proc`; `root` itself excluded. */
export function descendantsOf(root: number, stats: readonly ProcStat[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const out: ProcStat[] = [];
  const queue = [root];
  const seen = new Set<number>([root]);
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** CPU ticks of one process tree, split as the tables report it. */
export interface TreeTicks {
  /** The root process's own threads. */
  readonly self: number;
  /** Its children: reaped ones (cutime + cstime of the root) and the live ones' whole trees. */
  readonly children: number;
}

/** Ticks of the tree at `root` in a snapshot; null when `root` is not in it. */
export function treeTicks(root: number, stats: readonly ProcStat[]): TreeTicks | null {
  const me = stats.find((s) => s.pid === root);
  if (!me) return null;
  // A live descendant's reaped children are in its childTime; the root's reaped ones are in the root's.
  const children = descendantsOf(root, stats).reduce((sum, s) => sum + s.utime + s.stime + s.childTime, me.childTime);
  return { self: me.utime + me.stime, children };
}

/** Percent of one core used by `ticks` over `seconds`. */
export function corePercent(ticks: number, seconds: number, ticksPerSecond: number): number {
  return seconds > 0 ? (100 * ticks) / ticksPerSecond / seconds : Number.NaN;
}

/** CPU of one named process tree over a window, in % of one core. */
export interface TreeCpu {
  readonly name: string;
  readonly selfPct: number;
  readonly childrenPct: number;
}

/** Measures CPU of named process trees between {@link CpuWindow.start}-time and {@link CpuWindow.stop}. */
export class CpuWindow {
  readonly #roots: ReadonlyArray<readonly [string, number]>;
  readonly #hz: number;
  #before = new Map<string, TreeTicks>();
  #startedAt = 0;

  /** `roots`: name → pid of each tree to measure. */
  constructor(roots: ReadonlyArray<readonly [string, number]>, ticksPerSecond: number) {
    this.#roots = roots;
    this.#hz = ticksPerSecond;
  }

  /** Takes the starting snapshot. */
  start(): void {
    this.#before = this.#snapshot();
    this.#startedAt = performance.now();
  }

  /** CPU of each tree since {@link start} (a tree whose root vanished is left out). */
  stop(): TreeCpu[] {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const after = this.#snapshot();
    const out: TreeCpu[] = [];
    for (const [name] of this.#roots) {
      const a = this.#before.get(name);
      const b = after.get(name);
      if (!a || !b) continue;
      out.push({ name, selfPct: corePercent(b.self - a.self, seconds, this.#hz), childrenPct: corePercent(b.children - a.children, seconds, this.#hz) });
    }
    return out;
  }

  #snapshot(): Map<string, TreeTicks> {
    const stats = allProcStats();
    const out = new Map<string, TreeTicks>();
    for (const [name, pid] of this.#roots) {
      const t = treeTicks(pid, stats);
      if (t) out.set(name, t);
    }
    return out;
  }
}

/** Pids of the ffmpeg processes `pid` started (its direct children whose command name starts with `ffmpeg`). */
export function ffmpegChildren(pid: number, stats: readonly ProcStat[] = allProcStats()): number[] {
  return stats.filter((s) => s.ppid === pid && s.comm.startsWith("ffmpeg")).map((s) => s.pid);
}

/** Local ports by socket inode from the text of /proc/net/udp or /proc/net/udp6 (header line skipped). */
export function parseProcNetUdp(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const port = Number.parseInt(fields[1]!.split(":")[1] ?? "", 16);
    const inode = Number(fields[9]);
    if (Number.isFinite(port) && inode > 0) out.set(inode, port);
  }
  return out;
}

/** The local UDP ports `pid` holds open now (IPv4 and IPv6), sorted: what a firewall or a Service must let in. */
export function udpPortsOf(pid: number): number[] {
  // The process's own network namespace's table (it may run in another one, e.g. `ip netns exec`).
  const byInode = new Map([...parseProcNetUdp(readText(`/proc/${pid}/net/udp`)), ...parseProcNetUdp(readText(`/proc/${pid}/net/udp6`))]);
  const ports = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    let link = "";
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    const port = inode === undefined ? undefined : byInode.get(Number(inode));
    if (port !== undefined) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
