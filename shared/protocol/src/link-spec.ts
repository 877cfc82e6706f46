/**
 * The text form of {@link LinkConditions}, as environment variables give it: comma-separated `key=value` pairs,
 * e.g. `loss=1%,delay=50ms,jitter=5ms,rate=2mbit,queue=64kb`. Keys: `loss` (% or a fraction), `burst` (mean loss
 * burst in packets: Gilbert–Elliott with that mean and `loss` on average), `delay`, `jitter` (us, ms, s),
 * `reorder` (on/off), `rate` (bit, kbit, mbit, gbit per second), `queue` (b, kb, mb in 1024s, or a time at the
 * rate), `blackout`, `blackout-at`, `blackout-every` (times) and `seed`. Listed in docs/network-lab.md. In the protocol
 * because a session's network setting is such a text, checked on the page and at the server alike.
 */
import { capText } from "./errors.ts";

/** Gilbert–Elliott loss: a two-state Markov chain, evaluated once a packet, each state with its own loss probability. */
export interface GilbertElliott {
  /** Probability of going from the good to the bad state (per packet). */
  readonly p: number;
  /** Probability of going from the bad back to the good state (per packet); mean bad run = 1 / r packets. */
  readonly r: number;
  /** Loss probability in the bad state (1 = Gilbert's model). */
  readonly lossBad: number;
  /** Loss probability in the good state (0 = Gilbert's model). */
  readonly lossGood: number;
}

/** When the link is down: for `durationMs`, first at `atMs` after the link was made, then every `everyMs` if set. */
export interface Blackout {
  readonly durationMs: number;
  readonly atMs: number;
  readonly everyMs?: number;
}

/** The conditions of one direction of a link; every field optional, an empty object is a perfect link. */
export interface LinkConditions {
  /** Independent (Bernoulli) loss probability per packet, 0–1; ignored when `gilbertElliott` is set. */
  readonly loss?: number;
  /** Bursty loss instead of independent loss. */
  readonly gilbertElliott?: GilbertElliott;
  /** Added one-way delay (ms). */
  readonly delayMs?: number;
  /** Each packet's delay varies uniformly in ±jitterMs around `delayMs` (never below 0). */
  readonly jitterMs?: number;
  /** Whether jitter may reorder packets; when false (default) a packet never arrives before one sent earlier. */
  readonly reorder?: boolean;
  /** Bandwidth cap of the bottleneck (bits per second); none when absent. */
  readonly rateBps?: number;
  /** Size limit of the bottleneck queue (bytes, the packet in transmission included); needs `rateBps`. */
  readonly queueBytes?: number;
  /** The link goes down. */
  readonly blackout?: Blackout;
  /** Seed of the random source (loss, jitter); a random one when absent. */
  readonly seed?: number;
}

/** Queue size when `rate` is set without `queue`: 50 ms at the rate (at least one 1500-byte packet). */
export const DEFAULT_QUEUE_MS = 50;

/** Longest conditions text accepted (a full spec with every key is about 150). */
export const MAX_LINK_SPEC_CHARS = 256;
/** Longest piece of a spec quoted in an error message: error texts stay short whatever the input. */
const QUOTED_CHARS = 32;

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };
const RATE_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };
const KEYS = ["loss", "burst", "delay", "jitter", "reorder", "rate", "queue", "blackout", "blackout-at", "blackout-every", "seed"] as const;
type Key = (typeof KEYS)[number];

/** Parses a conditions spec; an empty spec (or `off`) is undefined: no impairment. Throws a RangeError naming the bad pair. */
export function parseLinkConditions(spec: string): LinkConditions | undefined {
  if (spec.length > MAX_LINK_SPEC_CHARS) throw new RangeError(`longer than ${MAX_LINK_SPEC_CHARS} characters`);
  const text = spec.trim();
  if (text === "" || text === "off" || text === "none") return undefined;
  const pairs = new Map<Key, string>();
  for (const pair of text.split(",")) {
    const [key = "", value, ...rest] = pair.split("=").map((s) => s.trim());
    if (value === undefined || value === "" || rest.length > 0) throw new RangeError(`"${shown(pair)}": expected key=value`);
    if (!(KEYS as readonly string[]).includes(key)) throw new RangeError(`"${shown(key)}": unknown key (known: ${KEYS.join(", ")})`);
    if (pairs.has(key as Key)) throw new RangeError(`"${key}" given twice`);
    pairs.set(key as Key, value);
  }
  const get = <T>(key: Key, read: (value: string, key: Key) => T): T | undefined => {
    const value = pairs.get(key);
    return value === undefined ? undefined : read(value, key);
  };
  const loss = get("loss", fraction);
  const burst = get("burst", (v, k) => positive(v, k, 1));
  const rateBps = get("rate", (v, k) => withUnit(v, k, RATE_UNITS));
  const queueSpec = pairs.get("queue");
  if (burst !== undefined && (loss === undefined || loss === 0 || loss >= 1)) throw new RangeError(`"burst" needs a loss between 0 and 100 %`);
  if (queueSpec !== undefined && rateBps === undefined) throw new RangeError(`"queue" needs a "rate"`);
  const blackoutMs = get("blackout", time);
  const atMs = get("blackout-at", time);
  const everyMs = get("blackout-every", time);
  if ((atMs !== undefined || everyMs !== undefined) && blackoutMs === undefined) throw new RangeError(`"blackout-at"/"blackout-every" need a "blackout"`);
  if (everyMs !== undefined && blackoutMs !== undefined && everyMs <= blackoutMs) throw new RangeError(`"blackout-every" must be longer than "blackout"`);
  const reorder = get("reorder", (v) => {
    if (v !== "on" && v !== "off") throw new RangeError(`reorder=${shown(v)}: expected on or off`);
    return v === "on";
  });
  return {
    ...(loss === undefined || burst !== undefined ? {} : { loss }),
    ...(burst === undefined || loss === undefined ? {} : { gilbertElliott: gilbertFor(loss, burst) }),
    ...opt("delayMs", get("delay", time)),
    ...opt("jitterMs", get("jitter", time)),
    ...opt("reorder", reorder),
    ...opt("rateBps", rateBps),
    ...(rateBps === undefined ? {} : { queueBytes: queueBytesOf(queueSpec ?? `${DEFAULT_QUEUE_MS}ms`, rateBps) }),
    ...(blackoutMs === undefined ? {} : { blackout: { durationMs: blackoutMs, atMs: atMs ?? 0, ...opt("everyMs", everyMs) } }),
    ...opt("seed", get("seed", (v, k) => integer(v, k))),
  };
}

/** Gilbert's model (all lost in the bad state, none in the good) with average loss `loss` in bursts of mean `burst` packets. */
export function gilbertFor(loss: number, burst: number): NonNullable<LinkConditions["gilbertElliott"]> {
  const r = 1 / burst;
  return { p: (loss * r) / (1 - loss), r, lossBad: 1, lossGood: 0 };
}

/** The canonical text of conditions (what /metrics and the logs show); parses back to the same conditions. */
export function formatLinkConditions(c: LinkConditions): string {
  const parts: string[] = [];
  const ge = c.gilbertElliott;
  if (ge !== undefined) parts.push(`loss=${round(percentOf(ge))}%`, `burst=${round(1 / ge.r)}`);
  else if (c.loss !== undefined) parts.push(`loss=${round(c.loss * 100)}%`);
  if (c.delayMs !== undefined) parts.push(`delay=${round(c.delayMs)}ms`);
  if (c.jitterMs !== undefined) parts.push(`jitter=${round(c.jitterMs)}ms`);
  if (c.reorder !== undefined) parts.push(`reorder=${c.reorder ? "on" : "off"}`);
  if (c.rateBps !== undefined) parts.push(`rate=${round(c.rateBps / 1000)}kbit`);
  if (c.queueBytes !== undefined) parts.push(`queue=${Math.round(c.queueBytes)}b`);
  if (c.blackout !== undefined) {
    parts.push(`blackout=${round(c.blackout.durationMs)}ms`, `blackout-at=${round(c.blackout.atMs)}ms`);
    if (c.blackout.everyMs !== undefined) parts.push(`blackout-every=${round(c.blackout.everyMs)}ms`);
  }
  if (c.seed !== undefined) parts.push(`seed=${c.seed}`);
  return parts.join(",");
}

function shown(text: string): string {
  return capText(text, QUOTED_CHARS);
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function percentOf(ge: NonNullable<LinkConditions["gilbertElliott"]>): number {
  const bad = ge.p / (ge.p + ge.r);
  return (bad * ge.lossBad + (1 - bad) * ge.lossGood) * 100;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function number(value: string, key: string): number {
  const n = Number(value);
  if (value === "" || !Number.isFinite(n) || n < 0) throw new RangeError(`${key}=${shown(value)}: expected a number ≥ 0`);
  return n;
}

function integer(value: string, key: string): number {
  const n = number(value, key);
  if (!Number.isInteger(n) || n >= 2 ** 32) throw new RangeError(`${key}=${shown(value)}: expected an integer below 2^32`);
  return n;
}

function positive(value: string, key: string, min: number): number {
  const n = number(value, key);
  if (n < min) throw new RangeError(`${key}=${shown(value)}: expected at least ${min}`);
  return n;
}

function fraction(value: string, key: string): number {
  const n = value.endsWith("%") ? number(value.slice(0, -1), key) / 100 : number(value, key);
  if (n > 1) throw new RangeError(`${key}=${shown(value)}: expected 0–100 %`);
  return n;
}

/** A number with one of `units` (case-insensitive), scaled by it. */
function measure(value: string, key: string, units: Record<string, number>): number {
  const match = /^([0-9.]+)\s*([a-z]+)$/i.exec(value);
  const unit = units[match?.[2]?.toLowerCase() ?? ""];
  if (!match || unit === undefined) throw new RangeError(`${key}=${shown(value)}: expected a number with a unit (${Object.keys(units).join(", ")})`);
  return number(match[1] as string, key) * unit;
}

function withUnit(value: string, key: string, units: Record<string, number>): number {
  const n = measure(value, key, units);
  if (n <= 0) throw new RangeError(`${key}=${shown(value)}: must be above 0`);
  return n;
}

function time(value: string, key: string): number {
  return measure(value, key, TIME_UNITS);
}

/** Queue size in bytes: a size, or a time's worth at the rate (at least one 1500-byte packet). */
function queueBytesOf(value: string, rateBps: number): number {
  if (/(us|ms|s)$/i.test(value)) return Math.max(1500, Math.round((rateBps / 8) * (time(value, "queue") / 1000)));
  return Math.round(withUnit(value, "queue", SIZE_UNITS));
}
