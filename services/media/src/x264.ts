/**
 * libx264 inside media's process (`bun:ffi`), the encoder without ffmpeg around it: a raw I420 frame in, its access
 * unit out of the same call, no pipes. ffmpeg's two pipe hops and its demuxer cost ~0.7–0.9 ms of the ~1.4 ms a
 * frame spent "in the encoder", x264 itself 0.4–0.7 ms (docs/media.md, "x264 in the process"). A running x264
 * makes an IDR on demand (the picture's type) and takes a new rate cap in place (`x264_encoder_reconfig`): neither
 * needs a fresh encoder, as ffmpeg did.
 *
 * The binding touches four fields of x264's structs by offset, all fixed by libx264's ABI (`X264_BUILD` 164 is in
 * the library's name): the picture size in `x264_param_t`, and the picture type, keyframe flag, pts and planes of
 * `x264_picture_t`. Everything else is set by name through `x264_param_parse`, as the x264 CLI does.
 */
import { FFIType, type Pointer, dlopen, ptr, read, toArrayBuffer } from "bun:ffi";
import { crfFor, gopFrames, type EncoderFormat, type X264Settings } from "./encoder-settings.ts";
import { vbv } from "./rate-control.ts";

/** Names the library goes by: the ABI this binding was written against (Debian 12's libx264-164). */
export const LIBX264_NAMES = ["libx264.so.164"] as const;

const X264_CSP_I420 = 2;
const X264_TYPE_AUTO = 0;
const X264_TYPE_IDR = 1;
/** Room for `x264_param_t` (~1 KB in build 164) and `x264_picture_t` (312 bytes), with margin. */
const PARAM_BYTES = 4096;
const PICTURE_BYTES = 1024;
/** Offsets in x264_param_t and x264_picture_t (build 164, x86-64 and aarch64 alike). */
const PARAM = { width: 28, height: 32, csp: 36 } as const;
const PICTURE = { type: 0, keyframe: 12, pts: 16, csp: 40, planes: 44, strides: 48, plane: 64 } as const;

const symbols = {
  x264_param_default_preset: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.cstring, FFIType.cstring] },
  x264_param_parse: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.cstring, FFIType.cstring] },
  x264_param_apply_profile: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.cstring] },
  x264_param_cleanup: { returns: FFIType.void, args: [FFIType.ptr] },
  x264_picture_init: { returns: FFIType.void, args: [FFIType.ptr] },
  x264_encoder_open_164: { returns: FFIType.ptr, args: [FFIType.ptr] },
  x264_encoder_parameters: { returns: FFIType.void, args: [FFIType.ptr, FFIType.ptr] },
  x264_encoder_reconfig: { returns: FFIType.i32, args: [FFIType.ptr, FFIType.ptr] },
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
 * x264's settings for a format, by x264's own option names: the same encoder ffmpeg ran (`encoderArgs`): ultrafast,
 * zerolatency, baseline (applied after these), one thread, no B-frames, trellis off, headers on every keyframe, the
 * GOP and CRF by fps, the rate cap with a VBV of one frame. `force-cfr`: the rate control reads the fps, not the
 * timestamps (frames the session drops would otherwise look like a slower rate); `log -1`: x264 writes nothing to
 * stderr (errors come back as return codes).
 */
export function x264Params(format: EncoderFormat, x264: X264Settings): [string, string][] {
  return [
    ["threads", "1"],
    ["bframes", "0"],
    ["trellis", "0"],
    ["fps", String(format.fps)],
    ["force-cfr", "1"],
    ["keyint", String(gopFrames(format.fps, x264.keyframeIntervalS))],
    ["crf", String(crfFor(format.fps))],
    ...bitrateParams(x264.bitrateKbps, format.fps),
    ["repeat-headers", "1"],
    ["annexb", "1"],
    ...(x264.intraRefresh ? [["intra-refresh", "1"] as [string, string]] : []),
    ["log", "-1"],
  ];
}

/** The rate cap as x264 options: `vbv-maxrate` the target, `vbv-bufsize` one frame's share ({@link vbv}). */
export function bitrateParams(kbps: number, fps: number): [string, string][] {
  const { maxrateKbps, bufsizeKbits } = vbv(kbps, fps);
  return [
    ["vbv-maxrate", String(maxrateKbps)],
    ["vbv-bufsize", String(bufsizeKbits)],
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
  readonly #param = new Uint8Array(PARAM_BYTES);
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
    setParams(lib, param, params);
    if (lib.x264_param_apply_profile(ptr(param), cstring("baseline")) !== 0) throw new Error("x264: profile baseline refused");
    const handle = lib.x264_encoder_open_164(ptr(param));
    lib.x264_param_cleanup(ptr(param));
    if (handle === null) throw new Error(`x264 refused to open ${format.width}x${format.height} at ${format.fps} fps`);
    return new X264(lib, format, handle as Pointer);
  }

  /**
   * Encodes one I420 picture of {@link format} (an IDR when `idr`) and returns its access unit, or null when x264
   * held it back (never with zerolatency and no B-frames). Throws when x264 reports an error or is closed.
   */
  encode(pixels: Uint8Array, idr: boolean): X264Output | null {
    const handle = this.#open();
    const { width, height } = this.format;
    const luma = width * height;
    if (pixels.length < luma + 2 * (luma >> 2)) throw new RangeError(`x264: ${pixels.length} bytes for a ${width}x${height} I420 picture`);
    const pic = new DataView(this.#picture.buffer);
    const base = ptr(pixels);
    pic.setInt32(PICTURE.type, idr ? X264_TYPE_IDR : X264_TYPE_AUTO, true);
    pic.setBigInt64(PICTURE.pts, this.#pts++, true);
    pic.setInt32(PICTURE.csp, X264_CSP_I420, true);
    pic.setInt32(PICTURE.planes, 3, true);
    [width, width >> 1, width >> 1].forEach((stride, i) => pic.setInt32(PICTURE.strides + 4 * i, stride, true));
    [0, luma, luma + (luma >> 2)].forEach((offset, i) => pic.setBigUint64(PICTURE.plane + 8 * i, BigInt(base + offset), true));
    const bytes = this.#lib.x264_encoder_encode(handle, ptr(this.#nals), ptr(this.#nalCount), ptr(this.#picture), ptr(this.#out));
    if (bytes < 0) throw new Error(`x264_encoder_encode failed (${bytes})`);
    if (bytes === 0 || this.#nalCount[0] === 0) return null;
    // The payloads of all NALs of one call are sequential in memory (x264.h), starting at the first NAL's.
    const first = Number(read.ptr(Number(this.#nals[0]) as Pointer, 24)) as Pointer;
    const data = new Uint8Array(toArrayBuffer(first, 0, bytes)).slice();
    return { data, keyframe: new DataView(this.#out.buffer).getInt32(PICTURE.keyframe, true) !== 0 };
  }

  /** Applies new options in place (`x264_encoder_reconfig`), e.g. {@link bitrateParams}; the next frame follows them. */
  reconfigure(params: readonly [string, string][]): void {
    const handle = this.#open();
    const param = this.#param;
    this.#lib.x264_encoder_parameters(handle, ptr(param));
    setParams(this.#lib, param, params);
    const r = this.#lib.x264_encoder_reconfig(handle, ptr(param));
    if (r < 0) throw new Error(`x264_encoder_reconfig refused ${params.map(([k, v]) => `${k}=${v}`).join(" ")} (${r})`);
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
