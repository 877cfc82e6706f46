/** zstd into a caller's buffer through the system's libzstd. */
import { describe, expect, test } from "bun:test";
import { LIBZSTD_NAMES, ZSTD_DST_TOO_SMALL, loadZstdInto } from "../src/zstd-into.ts";

describe("loadZstdInto", () => {
  const zstd = loadZstdInto();

  test("loads the system's libzstd (Debian's libzstd1, which dpkg itself needs)", () => {
    expect(LIBZSTD_NAMES[0]).toBe("libzstd.so.1");
    expect(zstd).not.toBeNull();
  });

  test("decompresses into the given buffer and says how many bytes it wrote", () => {
    const picture = new Uint8Array(460_800).fill(16).fill(235, 1000, 3000);
    const into = new Uint8Array(460_800);
    expect(zstd!(Bun.zstdCompressSync(picture, { level: 1 }), into)).toEqual({ ok: true, bytes: 460_800 });
    expect(Buffer.from(into).equals(Buffer.from(picture))).toBe(true);
    const larger = new Uint8Array(500_000);
    expect(zstd!(Bun.zstdCompressSync(picture.subarray(0, 100)), larger)).toEqual({ ok: true, bytes: 100 });
  });

  test("never writes past the buffer: a zip bomb or two concatenated frames stop with dstSize_tooSmall", () => {
    const into = new Uint8Array(4096);
    expect(zstd!(Bun.zstdCompressSync(new Uint8Array(64 * 1024 * 1024)), into.subarray(0, 4000))).toEqual({ ok: false, code: ZSTD_DST_TOO_SMALL });
    const one = Bun.zstdCompressSync(new Uint8Array(3000).fill(7));
    expect(zstd!(new Uint8Array([...one, ...one]), into.subarray(0, 4000))).toEqual({ ok: false, code: ZSTD_DST_TOO_SMALL });
    expect(into.subarray(4000).every((b) => b === 0)).toBe(true);
  });

  test("garbage is another zstd error; empty buffers are refused before libzstd sees them", () => {
    const r = zstd!(new Uint8Array([1, 2, 3, 4, 5, 6]), new Uint8Array(100));
    expect(r.ok).toBe(false);
    expect(r.ok ? 0 : r.code).not.toBe(ZSTD_DST_TOO_SMALL);
    expect(() => zstd!(new Uint8Array(0), new Uint8Array(10))).toThrow(RangeError);
    expect(() => zstd!(new Uint8Array(10), new Uint8Array(0))).toThrow(RangeError);
  });

  test("null when no library of the names loads", () => {
    expect(loadZstdInto(["libzstd-that-does-not-exist.so.9"])).toBeNull();
  });
});
