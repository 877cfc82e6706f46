import { describe, expect, test } from "bun:test";
import { type FfmpegLookup, resolveFfmpeg } from "../src/ffmpeg-path.ts";

function lookup(over: Partial<FfmpegLookup> & { files?: string[] }): FfmpegLookup {
  const files = new Set(over.files ?? []);
  return { env: {}, loadPackage: () => undefined, exists: (p) => files.has(p), which: () => null, ...over };
}

describe("resolveFfmpeg", () => {
  const packages: Record<string, unknown> = { "ffmpeg-static": "/static/ffmpeg", "@ffmpeg-installer/ffmpeg": { path: "/installer/ffmpeg" } };
  const all = { loadPackage: (n: string) => packages[n], which: () => "/usr/bin/ffmpeg", files: ["/env/ffmpeg", "/static/ffmpeg", "/installer/ffmpeg"] };

  test("FFMPEG_PATH first, then ffmpeg-static, then @ffmpeg-installer, then PATH", () => {
    expect(resolveFfmpeg(lookup({ ...all, env: { FFMPEG_PATH: "/env/ffmpeg" } }))).toEqual({ path: "/env/ffmpeg", source: "FFMPEG_PATH" });
    expect(resolveFfmpeg(lookup(all))).toEqual({ path: "/static/ffmpeg", source: "ffmpeg-static" });
    expect(resolveFfmpeg(lookup({ ...all, files: ["/installer/ffmpeg"] }))).toEqual({ path: "/installer/ffmpeg", source: "@ffmpeg-installer/ffmpeg" });
    expect(resolveFfmpeg(lookup({ ...all, files: [] }))).toEqual({ path: "/usr/bin/ffmpeg", source: "PATH" });
  });

  test("ffmpeg-static installed without its binary (offline install) is skipped", () => {
    const r = resolveFfmpeg(lookup({ ...all, files: ["/installer/ffmpeg"] }));
    expect(r.source).toBe("@ffmpeg-installer/ffmpeg");
  });

  test("a FFMPEG_PATH that does not exist is an error, not a silent fallback", () => {
    expect(() => resolveFfmpeg(lookup({ ...all, env: { FFMPEG_PATH: "/nope" } }))).toThrow("FFMPEG_PATH=/nope");
  });

  test("nothing found: the error says where to get one", () => {
    expect(() => resolveFfmpeg(lookup({}))).toThrow(/FFMPEG_PATH.*ffmpeg-static.*@ffmpeg-installer/);
  });

  test("on this machine it finds an ffmpeg with libx264", () => {
    const { path } = resolveFfmpeg();
    const out = Bun.spawnSync([path, "-hide_banner", "-encoders"]);
    expect(out.stdout.toString()).toContain("libx264");
  });
});
