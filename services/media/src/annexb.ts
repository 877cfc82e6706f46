/**
 * H.264 Annex-B byte stream → access units. ffmpeg writes NAL units separated by start codes (`00 00 01` or
 * `00 00 00 01`); a pipe read may end anywhere. The encoder runs with one slice per frame (`-threads 1`), so an
 * access unit is complete as soon as its one slice (VCL NAL) is complete — and a slice at the end of a read is
 * taken as complete at once instead of waiting for the next start code, which would cost a whole frame. That holds
 * because ffmpeg writes each packet with one write (`-avioflags direct -flush_packets 1`) and a pipe hands a write
 * that fits its buffer over whole. If a slice was split anyway, the rest arrives without a start code: it is
 * counted in {@link AccessUnitParser.truncated} and dropped, and the caller should ask for a keyframe.
 */

/** NAL unit types this service acts on (H.264 table 7-1). */
export const NAL_TYPE = { slice: 1, idr: 5, sei: 6, sps: 7, pps: 8, aud: 9, filler: 12 } as const;

/** The `nal_unit_type` of a NAL unit (without start code). */
export function nalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** Whether a NAL unit type carries picture data (a slice). */
export function isSliceType(type: number): boolean {
  return type >= 1 && type <= 5;
}

/** One encoded frame: its NAL units in order, without start codes. */
export interface AccessUnit {
  readonly nals: readonly Uint8Array[];
  /** True when it holds an IDR slice (decodable on its own). */
  readonly keyframe: boolean;
}

/** An access unit's NAL units as one Annex-B byte stream (4-byte start codes), what a WebCodecs decoder takes. */
export function toAnnexB(nals: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, nal) => n + 4 + nal.length, 0));
  let offset = 0;
  for (const nal of nals) {
    out.set(START_CODE, offset);
    out.set(nal, offset + 4);
    offset += 4 + nal.length;
  }
  return out;
}

const START_CODE = Uint8Array.of(0, 0, 0, 1);

/** The NAL units of one whole Annex-B access unit (as {@link toAnnexB} makes it), as views into `data`: no copies. */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const nals: Uint8Array[] = [];
  let code = findStartCode(data, 0);
  while (code !== null) {
    const start = code.at + code.length;
    const next = findStartCode(data, start);
    const end = trimZeros(data, start, next === null ? data.length : next.at);
    if (end > start) nals.push(data.subarray(start, end));
    code = next;
  }
  return nals;
}

/** Offset of the first start code at or after `from` and its length (3 or 4), or null. */
function findStartCode(data: Uint8Array, from: number): { at: number; length: number } | null {
  for (let i = from; i + 2 < data.length; i++) {
    if (data[i + 2]! > 1) {
      i += 2; // no start code can cover byte i+2 with a value above 1
      continue;
    }
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      const four = i > from && data[i - 1] === 0;
      return four ? { at: i - 1, length: 4 } : { at: i, length: 3 };
    }
  }
  return null;
}

/** Index just past the last non-zero byte (trailing zeros belong to the next start code, never to a NAL). */
function trimZeros(data: Uint8Array, start: number, end: number): number {
  while (end > start && data[end - 1] === 0) end--;
  return end;
}

/** Splits an Annex-B byte stream, pushed in chunks of any size, into access units. */
export class AccessUnitParser {
  /** Bytes not yet parsed; when non-empty it begins at a start code (or with zero bytes that may become one). */
  #buffer: Uint8Array = new Uint8Array(0);
  #nals: Uint8Array[] = [];
  /** Slices that turned out to be split across reads (their frame was cut short). */
  truncated = 0;

  /** Feeds one chunk; returns the access units completed by it, in order. */
  push(chunk: Uint8Array): AccessUnit[] {
    const data = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const units: AccessUnit[] = [];
    let code = findStartCode(data, 0);
    if (code === null) {
      // No start code yet: keep trailing zeros (a start code may be forming), anything else is a stray tail.
      const keepFrom = trimZeros(data, 0, data.length);
      if (keepFrom > 0) this.#stray();
      this.#buffer = data.slice(keepFrom);
      return units;
    }
    if (code.at > 0 && trimZeros(data, 0, code.at) > 0) this.#stray();
    for (;;) {
      const start = code.at + code.length;
      const next = findStartCode(data, start);
      const end = next === null ? data.length : next.at;
      const nalEnd = trimZeros(data, start, end);
      if (next === null) {
        const type = start < data.length ? nalType(data.subarray(start)) : 0;
        if (nalEnd > start && isSliceType(type)) {
          this.#add(data.slice(start, nalEnd), units);
          this.#buffer = data.slice(nalEnd); // zeros that may start the next start code
        } else {
          this.#buffer = data.slice(code.at);
        }
        return units;
      }
      if (nalEnd > start) this.#add(data.slice(start, nalEnd), units);
      code = next;
    }
  }

  #add(nal: Uint8Array, units: AccessUnit[]): void {
    this.#nals.push(nal);
    if (!isSliceType(nalType(nal))) return;
    const nals = this.#nals;
    this.#nals = [];
    units.push({ nals, keyframe: nals.some((n) => nalType(n) === NAL_TYPE.idr) });
  }

  #stray(): void {
    this.truncated++;
    this.#nals = [];
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
