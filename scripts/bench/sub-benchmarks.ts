/**
 * The package benchmarks (services/*\/bench, web/bench), run one after another before the system starts so they
 * do not compete with it: the generator's through its exported `runGeneratorBench` (its pacing figure is the
 * "generate" stage), the others as their own processes, whose printed figures are kept.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { allProcStats, descendantsOf } from "@ballstream/testing";
import type { SubBenchmark } from "./results.ts";

const ROOT = join(import.meta.dir, "../..");

/** The benchmark scripts of the packages, in pipeline order (generator first). */
export function benchScripts(root = ROOT): string[] {
  const out: string[] = [];
  for (const dir of ["services/generator/bench", "services/media/bench", "services/signaling/bench", "web/bench"]) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs).sort()) if (/\.ts$/.test(name) && !name.endsWith(".d.ts")) out.push(join(abs, name));
  }
  return out;
}

/** The generator's benchmark through its exported function (structured figures, no output parsing). */
async function runGenerator(file: string): Promise<SubBenchmark> {
  const command = `bun ${relative(ROOT, file)}`;
  try {
    const mod = (await import(file)) as typeof import("@ballstream/generator/bench");
    const r = await mod.runGeneratorBench({ pacingSeconds: 5 });
    const p = r.pacing;
    return {
      name: "generator (raster, pacing)",
      command,
      lines: [
        `raster 640x480 one core: direct I420 ${r.rasterOnlyFps.toFixed(0)} frames/s; raster + frame/truth encoding ${r.fullFrameFps.toFixed(0)} frames/s; pureimage + RGBA→I420 ${r.pureimageFps.toFixed(1)} frames/s`,
        `pacing ${p.sessions} sessions × ${p.fps} fps (in-process bus): ${p.frames} frames, ${p.skipped} skipped, capture → published p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms, max ${p.maxMs.toFixed(2)} ms`,
        ...r.compression.map((c) => `compression ${c.codec}: ${c.bytes} bytes (×${c.ratio.toFixed(0)}), ${c.compressMs.toFixed(3)} ms to compress, ${c.decompressMs.toFixed(3)} ms to decompress`),
      ],
      figures: { pacingP50Ms: p.p50Ms, pacingP99Ms: p.p99Ms, fullFrameMs: 1000 / r.fullFrameFps },
      error: null,
    };
  } catch (err) {
    return { name: "generator (raster, pacing)", command, lines: [], figures: {}, error: String(err) };
  }
}

/** Output lines worth keeping: not JSON log lines, not blank. */
export function printedFigures(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !l.trimStart().startsWith("{"));
}

async function runScript(file: string, timeoutMs: number): Promise<SubBenchmark> {
  const pkgDir = join(file, "../..");
  const command = `cd ${relative(ROOT, pkgDir)} && bun ${relative(pkgDir, file)}`;
  const name = `${relative(ROOT, pkgDir)}: ${relative(join(pkgDir, "bench"), file).replace(/\.ts$/, "")}`;
  const child = Bun.spawn(["bun", file], { cwd: pkgDir, stdout: "pipe", stderr: "pipe", env: { ...process.env, LOG_LEVEL: "warn" } });
  // Over its limit, the script goes with everything it started (a nats-server, a generator): children left behind
  // would hold its output pipe open, and this run would wait for them for ever.
  const timer = setTimeout(() => {
    for (const p of descendantsOf(child.pid, allProcStats())) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    child.kill("SIGKILL");
  }, timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  const lines = printedFigures(stdout);
  const error = code === 0 ? null : `exit ${code}${child.signalCode ? ` (${child.signalCode}, limit ${timeoutMs / 1000} s)` : ""}: ${stderr.trim().split("\n").slice(-3).join(" | ").slice(0, 400)}`;
  return { name, command, lines, figures: {}, error: error && lines.length > 0 ? `${error} (partial output kept)` : error };
}

/** Runs every package benchmark, each bounded by `timeoutMs`, all by `budgetMs`. */
export async function runSubBenchmarks(opts: { timeoutMs: number; budgetMs: number; log: (line: string) => void }): Promise<SubBenchmark[]> {
  const started = Date.now();
  const out: SubBenchmark[] = [];
  for (const file of benchScripts()) {
    const left = opts.budgetMs - (Date.now() - started);
    if (left <= 0) {
      out.push({ name: relative(ROOT, file), command: `bun ${relative(ROOT, file)}`, lines: [], figures: {}, error: "skipped: benchmark time budget used up" });
      continue;
    }
    opts.log(`sub-benchmark ${relative(ROOT, file)}`);
    const r = file.endsWith("generator/bench/generator.ts") ? await runGenerator(file) : await runScript(file, Math.min(opts.timeoutMs, left));
    if (r.error) opts.log(`  ${r.error}`);
    out.push(r);
  }
  return out;
}
