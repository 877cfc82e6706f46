/**
 * libx264 inside media's process (`bun:ffi`), the encoder without ffmpeg around it: a raw I420 frame in, its access
 * unit out of the same call, no pipes. x264 runs at a constant QP chosen per picture by {@link QpControl} (the
 * bitrate cap without CRF's look-ahead analysis: ~0.35 instead of ~0.7 ms a 640×480 frame), makes an IDR on demand
 * (the picture's type) and takes a new cap from the next picture on: neither needs a fresh encoder, as ffmpeg did
 * (docs/media.md, "x264 in the process").
 *
 * The binding touches a few fields of x264's structs by offset, all fixed by libx264's ABI (`X264_BUILD` 164 is in
 * the library's name): the picture size and `analyse.b_mb_info` in `x264_param_t`, the picture type, forced QP, pts,
 * planes and `prop.mb_info` of `x264_picture_t`, and the type and payload of `x264_nal_t`. Everything else is set by
 * name through `x264_param_parse`, as the x264 CLI does. A picture may say which macroblocks did not change
 * (unchanged-macroblocks.ts), so x264 skips analysing them.
 */
import { FFIType, type Pointer, dlopen, ptr, read, toArrayBuffer } from "bun:ffi";
import { crfFor, gopFrames, type EncoderFormat, type X264Settings } from "./encoder-settings.ts";
import { NAL_TYPE } from "./annexb.ts";
import { QpControl } from "./qp-control.ts";
import { macroblockCount } from "./unchanged-macroblocks.ts";

/** Names the library goes by: the ABI this binding was written against (Debian 12's libx264-164). */
export const LIBX264_NAMES = ["libx264.so.164"] as const;

const X264_CSP_I420 = 2;
const X264_TYPE_AUTO = 0;
const X264_TYPE_IDR = 1;
/** Room for `x264_param_t` (~1 KB in build 164) and `x264_picture_t` (312 bytes), with margin. */
const PARAM_BYTES = 4096;
const PICTURE_BYTES = 1024;
/** Offsets in x264_param_t and x264_picture_t (build 164, x86-64 and aarch64 alike). */
const PARAM = { width: 28, height: 32, csp: 36, mbInfo: 628 } as const;
const PICTURE = { type: 0, qpPlus1: 4, pts: 16, csp: 40, planes: 44, strides: 48, plane: 64, mbInfo: 112 } as const;
/** x264_nal_t: its size in the array, the NAL type and the payload pointer. */
const NAL = { bytes: 40, type: 4, payload: 24 } as const;

const symbols = {
  x264_param_default_preset: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.cstring, FFIType.cstring] },
  x264_param_parse: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.cstring, FFIType.cstring] },
  x264_param_apply_profile: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.cstring] },
  x264_param_cleanup: { returns: FFIType.void, args: [FFIType.ptr] },
  x264_picture_init: { returns: FFIType.void, args: [FFIType.ptr] },
  x264_encoder_open_164: { returns: FFIType.ptr, args: [FFIType.ptr] },
  x264_encoder_encode: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr] },
  x264_encoder_close: { returns: FFIType.void, args: [FFIType.ptr] },
} as const;

/** The loaded library's functions. */
export type X264Library = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** Opens the first loadable libx264 of `names`, or null when none loads (media then encodes with ffmpeg). */
export function loadX264(names: readonly string[] = LIBX264_NAMES): X264Library | null {
  for (const name of names) {
    try {
      return dlopen(name, symbols).symbols;
    } catch {
      // not this one
    }
  }
  return null;
}

/**
 * x264's settings for a format, by x264's own option names: the encoder ffmpeg runs (`encoderArgs`), ultrafast,
 * zerolatency, baseline (applied after these), one thread, no B-frames, trellis off, headers on every keyframe, the
 * GOP by fps; but a constant QP that {@link CappedX264} sets for every picture. x264 clamps a picture's QP to the
 * range its constant QPs span (P, and I and B by `ipratio` / `pbratio`, each at most 10×, i.e. ±19.9 QP): QP 31 with
 * both at 10 opens 11–51 (measured: forced QPs 20–50 came out as asked; with x264's defaults, 20–26 only). `log -1`:
 * x264 writes nothing to stderr (errors come back as return codes).
 */
export function x264Params(format: EncoderFormat, x264: X264Settings): [string, string][] {
  return [
    ["threads", "1"],
    ["bframes", "0"],
    ["trellis", "0"],
    ["fps", String(format.fps)],
    // The periodic IDRs are CappedX264's (it must know which picture is one to choose its QP); with intra refresh
    // the period is x264's refresh wave.
    ["keyint", x264.intraRefresh ? String(gopFrames(format.fps, x264.keyframeIntervalS)) : "infinite"],
    ["qp", "31"],
    ["ipratio", "10"],
    ["pbratio", "10"],
    ["repeat-headers", "1"],
    ["annexb", "1"],
    ...(x264.intraRefresh ? [["intra-refresh", "1"] as [string, string]] : []),
    ["log", "-1"],
  ];
}

/** One access unit out of x264: its Annex-B bytes (a copy the caller owns) and whether it is an IDR. */
export interface X264Output {
  readonly data: Uint8Array;
  readonly keyframe: boolean;
}

const cstring = (s: string) => Buffer.from(`${s}\0`, "latin1");

/** One running x264 for one picture format. Not thread-safe: one caller at a time (an encoder thread). */
export class X264 {
  readonly format: EncoderFormat;
  readonly #lib: X264Library;
  #handle: Pointer | null;
  readonly #picture = new Uint8Array(PICTURE_BYTES);
  readonly #out = new Uint8Array(PICTURE_BYTES);
  readonly #nals = new BigUint64Array(1);
  readonly #nalCount = new Int32Array(1);
  #pts = 0n;

  private constructor(lib: X264Library, format: EncoderFormat, handle: Pointer) {
    this.#lib = lib;
    this.format = format;
    this.#handle = handle;
    lib.x264_picture_init(ptr(this.#picture));
  }

  /** Opens x264 for `format` with `params` ({@link x264Params}); throws naming the option or step that failed. */
  static open(lib: X264Library, format: EncoderFormat, params: readonly [string, string][]): X264 {
    const param = new Uint8Array(PARAM_BYTES);
    if (lib.x264_param_default_preset(ptr(param), cstring("ultrafast"), cstring("zerolatency")) !== 0) throw new Error("x264: preset ultrafast/zerolatency refused");
    const view = new DataView(param.buffer);
    view.setInt32(PARAM.width, format.width, true);
    view.setInt32(PARAM.height, format.height, true);
    view.setInt32(PARAM.csp, X264_CSP_I420, true);
    view.setInt32(PARAM.mbInfo, 1, true);
    setParams(lib, param, params);
    if (lib.x264_param_apply_profile(ptr(param), cstring("baseline")) !== 0) throw new Error("x264: profile baseline refused");
    const handle = lib.x264_encoder_open_164(ptr(param));
    lib.x264_param_cleanup(ptr(param));
    if (handle === null) throw new Error(`x264 refused to open ${format.width}x${format.height} at ${format.fps} fps`);
    return new X264(lib, format, handle as Pointer);
  }

  /**
   * Encodes one I420 picture of {@link format} (an IDR when `idr`, at `qp` when given; `unchanged`: a byte a
   * macroblock, `MBINFO_CONSTANT` (unchanged-macroblocks.ts) where it equals the last picture's, read during this
   * call only) and returns its access unit, or null when x264 held it back (never with zerolatency and no B-frames).
   * Throws when x264 reports an error or is closed.
   */
  encode(pixels: Uint8Array, idr: boolean, qp?: number, unchanged?: Uint8Array): X264Output | null {
    const handle = this.#open();
    const { width, height } = this.format;
    const luma = width * height;
    if (pixels.length < luma + 2 * (luma >> 2)) throw new RangeError(`x264: ${pixels.length} bytes for a ${width}x${height} I420 picture`);
    if (unchanged !== undefined && unchanged.length < macroblockCount(width, height)) throw new RangeError(`x264: ${unchanged.length} mb_info bytes for a ${width}x${height} picture`);
    const pic = new DataView(this.#picture.buffer);
    const base = ptr(pixels);
    pic.setInt32(PICTURE.type, idr ? X264_TYPE_IDR : X264_TYPE_AUTO, true);
    pic.setInt32(PICTURE.qpPlus1, qp === undefined ? 0 : qp + 1, true);
    pic.setBigInt64(PICTURE.pts, this.#pts++, true);
    pic.setInt32(PICTURE.csp, X264_CSP_I420, true);
    pic.setInt32(PICTURE.planes, 3, true);
    [width, width >> 1, width >> 1].forEach((stride, i) => pic.setInt32(PICTURE.strides + 4 * i, stride, true));
    [0, luma, luma + (luma >> 2)].forEach((offset, i) => pic.setBigUint64(PICTURE.plane + 8 * i, BigInt(base + offset), true));
    // x264 reads the map while it encodes this picture (one thread, no look-ahead), so it can be reused after.
    pic.setBigUint64(PICTURE.mbInfo, unchanged === undefined ? 0n : BigInt(ptr(unchanged)), true);
    const bytes = this.#lib.x264_encoder_encode(handle, ptr(this.#nals), ptr(this.#nalCount), ptr(this.#picture), ptr(this.#out));
    if (bytes < 0) throw new Error(`x264_encoder_encode failed (${bytes})`);
    if (bytes === 0 || this.#nalCount[0] === 0) return null;
    // The payloads of all NALs of one call are sequential in memory (x264.h), starting at the first NAL's.
    const nals = Number(this.#nals[0]) as Pointer;
    const first = Number(read.ptr(nals, NAL.payload)) as Pointer;
    const data = new Uint8Array(toArrayBuffer(first, 0, bytes)).slice();
    // An IDR slice among the NALs, as annexb.ts's AccessUnit means it (x264's b_keyframe is also set on intra
    // refresh's recovery points, which are not decodable alone).
    let keyframe = false;
    for (let k = 0; k < this.#nalCount[0]!; k++) keyframe ||= read.i32(nals, k * NAL.bytes + NAL.type) === NAL_TYPE.idr;
    return { data, keyframe };
  }

  /** Frees the encoder; later calls throw. Idempotent. */
  close(): void {
    if (this.#handle !== null) this.#lib.x264_encoder_close(this.#handle);
    this.#handle = null;
  }

  #open(): Pointer {
    if (this.#handle === null) throw new Error("x264: encoder closed");
    return this.#handle;
  }
}

function setParams(lib: X264Library, param: Uint8Array, params: readonly [string, string][]): void {
  for (const [name, value] of params) {
    const r = lib.x264_param_parse(ptr(param), cstring(name), cstring(value));
    if (r !== 0) throw new Error(`x264: option ${name}=${value} refused (${r === -1 ? "unknown name" : "bad value"})`);
  }
}

/**
 * The quality goal at a constant QP, below the CRF by fps ({@link crfFor}): what x264's CRF 23 chose for the
 * generator's ball at 640×480 (its IDR 2,499 B, P-pictures 373 B on average; at constant QP 21: 2,482 B, at QP 15:
 * 359 B, at QP 23: 199 B, where the page's frame-matched error doubled, 0.008 → 0.018 px in the bench).
 */
export const QP_BELOW_CRF = { p: 8, idr: 2 } as const;

/**
 * QP added per doubling of the frame rate above 30 fps on top of the CRF's 5 (`CRF_PER_FPS_DOUBLING`): a P-picture
 * at 120 fps carries a quarter of the motion of one at 30 fps and costs nearly as much at a constant QP, so 120 fps
 * at the CRF's step (QP 25) took 1.57× the bytes per second of 30 fps (e2e-style fps-change test, 1.5× allowed);
 * one more step per doubling (QP 27) keeps it under.
 */
export const EXTRA_QP_PER_FPS_DOUBLING = 1;

/** The quality goals at `fps` (P-pictures, IDRs): {@link QP_BELOW_CRF} below the CRF by fps, plus {@link EXTRA_QP_PER_FPS_DOUBLING}. */
export function qualityQps(fps: number): { readonly p: number; readonly idr: number } {
  const crf = crfFor(fps) + EXTRA_QP_PER_FPS_DOUBLING * Math.max(0, Math.log2(fps / 30));
  return { p: Math.round(crf - QP_BELOW_CRF.p), idr: Math.round(crf - QP_BELOW_CRF.idr) };
}

/** An {@link X264} under a bitrate cap: each picture's QP from a {@link QpControl}, told every picture's size. */
export class CappedX264 {
  readonly #x264: X264;
  readonly #control: QpControl;
  /** Pictures in a GOP (null with intra refresh: no periodic IDR), and pictures since the last IDR. */
  readonly #gop: number | null;
  #sinceIdr = 0;

  private constructor(x264: X264, control: QpControl, gop: number | null) {
    this.#x264 = x264;
    this.#control = control;
    this.#gop = gop;
  }

  /** Opens x264 for `format` with {@link x264Params} and the cap `x264.bitrateKbps`; throws as {@link X264.open}. */
  static open(lib: X264Library, format: EncoderFormat, x264: X264Settings): CappedX264 {
    const goal = qualityQps(format.fps);
    const control = new QpControl(x264.bitrateKbps, format.fps, goal.p, goal.idr);
    const gop = x264.intraRefresh ? null : gopFrames(format.fps, x264.keyframeIntervalS);
    return new CappedX264(X264.open(lib, format, x264Params(format, x264)), control, gop);
  }

  /** The running cap in kbit/s. */
  get kbps(): number {
    return this.#control.kbps;
  }

  /** Encodes a picture at the QP the cap allows, an IDR when asked or when a GOP is over; see {@link X264.encode}. */
  encode(pixels: Uint8Array, idr: boolean, unchanged?: Uint8Array): X264Output | null {
    const periodic = this.#gop !== null && this.#sinceIdr >= this.#gop;
    const qp = this.#control.next(idr || periodic || this.#sinceIdr === 0);
    const out = this.#x264.encode(pixels, idr || periodic, qp, unchanged);
    if (out === null) return null;
    this.#control.done(out.keyframe, qp, out.data.length);
    this.#sinceIdr = out.keyframe ? 1 : this.#sinceIdr + 1;
    return out;
  }

  /** A new cap (kbit/s), from the next picture on. */
  setKbps(kbps: number): void {
    this.#control.setKbps(kbps);
  }

  /** Frees the encoder; see {@link X264.close}. */
  close(): void {
    this.#x264.close();
  }
}
