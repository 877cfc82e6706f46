/**
 * zstd decompression into a buffer the caller owns, through the system's libzstd (`bun:ffi`). Neither
 * `node:zlib.zstdDecompressSync` nor `Bun.zstdDecompressSync` can write into a given buffer: each frame then costs a
 * fresh 460 KB allocation, and the page faults of that fresh memory, not zstd, were most of media's decode time
 * (paced 4 × 30 fps, 640×480 ball: 0.18 ms a frame through node:zlib, 0.09 ms through Bun's, 0.02 ms into a reused
 * buffer here; docs/generator.md "Decoding into a reused buffer"). libzstd never writes past the capacity it is given,
 * so a zip bomb stops there ({@link ZSTD_DST_TOO_SMALL}).
 */
import { FFIType, dlopen, ptr } from "bun:ffi";

/** zstd's error code when the output does not fit the buffer (`ZSTD_error_dstSize_tooSmall`). */
export const ZSTD_DST_TOO_SMALL = 70;

/** The outcome of one decompression: bytes written, or zstd's error code (`ZSTD_getErrorCode`). */
export type ZstdIntoResult = { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly code: number };

/** Decompresses all zstd frames of `src` into `into` (never beyond its length); both must be non-empty. */
export type ZstdInto = (src: Uint8Array, into: Uint8Array) => ZstdIntoResult;

/** Names libzstd goes by (Debian and Alpine, then a plain development link, then macOS). */
export const LIBZSTD_NAMES = ["libzstd.so.1", "libzstd.so", "libzstd.1.dylib"] as const;

/** Opens the first loadable libzstd of `names` and returns its decompressor, or null when none loads. */
export function loadZstdInto(names: readonly string[] = LIBZSTD_NAMES): ZstdInto | null {
  for (const name of names) {
    let lib;
    try {
      lib = dlopen(name, {
        ZSTD_createDCtx: { returns: FFIType.ptr, args: [] },
        ZSTD_decompressDCtx: { returns: FFIType.u64, args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.u64] },
        ZSTD_isError: { returns: FFIType.u32, args: [FFIType.u64] },
        ZSTD_getErrorCode: { returns: FFIType.u32, args: [FFIType.u64] },
      });
    } catch {
      continue;
    }
    const { ZSTD_createDCtx, ZSTD_decompressDCtx, ZSTD_isError, ZSTD_getErrorCode } = lib.symbols;
    const dctx = ZSTD_createDCtx();
    if (dctx === null) continue;
    return (src, into) => {
      if (src.length === 0 || into.length === 0) throw new RangeError("zstd: empty input or output buffer");
      const r = ZSTD_decompressDCtx(dctx, ptr(into), into.length, ptr(src), src.length);
      return ZSTD_isError(r) ? { ok: false, code: ZSTD_getErrorCode(r) } : { ok: true, bytes: Number(r) };
    };
  }
  return null;
}
