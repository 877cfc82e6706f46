/**
 * Which ffmpeg binary encodes: `FFMPEG_PATH`, then the `ffmpeg-static` package (when its binary was actually
 * downloaded), then the bundled `@ffmpeg-installer/ffmpeg`, then `ffmpeg` on `PATH`. See docs/media.md for why this
 * order is also the fastest here.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

/** Where the resolved binary came from. */
export type FfmpegSource = "FFMPEG_PATH" | "ffmpeg-static" | "@ffmpeg-installer/ffmpeg" | "PATH";

/** A resolved ffmpeg binary. */
export interface FfmpegBinary {
  readonly path: string;
  readonly source: FfmpegSource;
}

/** What {@link resolveFfmpeg} looks at; tests replace the lookups. */
export interface FfmpegLookup {
  readonly env: Record<string, string | undefined>;
  /** The export of an installed package, or undefined when it is not installed or fails to load. */
  readonly loadPackage: (name: string) => unknown;
  readonly exists: (path: string) => boolean;
  /** The full path of a command on PATH, or null. */
  readonly which: (command: string) => string | null;
}

const require = createRequire(import.meta.url);

/** The real environment, packages, file system and PATH. */
export const systemFfmpegLookup: FfmpegLookup = {
  env: process.env,
  loadPackage: (name) => {
    try {
      return require(name);
    } catch {
      return undefined;
    }
  },
  exists: existsSync,
  which: (command) => Bun.which(command),
};

function packagePath(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as { path?: unknown }).path === "string") return (value as { path: string }).path;
  return undefined;
}

/** Resolves the ffmpeg binary; throws an Error naming every place it looked when there is none. */
export function resolveFfmpeg(lookup: FfmpegLookup = systemFfmpegLookup): FfmpegBinary {
  const fromEnv = lookup.env.FFMPEG_PATH?.trim();
  if (fromEnv) {
    if (!lookup.exists(fromEnv)) throw new Error(`FFMPEG_PATH=${fromEnv}: no such file`);
    return { path: fromEnv, source: "FFMPEG_PATH" };
  }
  for (const source of ["ffmpeg-static", "@ffmpeg-installer/ffmpeg"] as const) {
    const path = packagePath(lookup.loadPackage(source));
    if (path !== undefined && lookup.exists(path)) return { path, source };
  }
  const onPath = lookup.which("ffmpeg");
  if (onPath !== null) return { path: onPath, source: "PATH" };
  throw new Error(
    "no ffmpeg found: set FFMPEG_PATH, or install ffmpeg-static or @ffmpeg-installer/ffmpeg (bun install), or put an ffmpeg with libx264 on PATH",
  );
}
