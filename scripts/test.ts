/**
 * Runs every test of the repository: the type check, then `bun test` in each package (unit tests first, then the
 * real-NATS / real-Chromium / real-ffmpeg integration tests that live beside them), with the web client built
 * first because signaling serves it. With `CI=true` or `SMOKE=1` it also runs the container smoke test
 * (deploy/smoke/run.sh: needs root, installs Docker from apt, builds the three images, drives one session through
 * them; 1–3 min). Exits non-zero if anything fails. `bun run test -- <dir>` runs one package.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const packages = ["shared/protocol", "shared/runtime", "shared/testing", "services/generator", "services/media", "services/signaling", "web", "deploy", "e2e", "scripts"];

function hasTests(dir: string): boolean {
  const walk = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? e.name !== "node_modules" && e.name !== "dist" && walk(join(d, e.name)) : /\.test\.tsx?$/.test(e.name),
    );
  return existsSync(dir) && walk(dir);
}

function run(label: string, cmd: string[], cwd: string): boolean {
  console.log(`\n=== ${label}: ${cmd.join(" ")}`);
  const started = performance.now();
  const r = Bun.spawnSync(cmd, { cwd, stdout: "inherit", stderr: "inherit", env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" } });
  console.log(`=== ${label}: ${r.exitCode === 0 ? "ok" : `FAILED (exit ${r.exitCode})`} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return r.exitCode === 0;
}

const only = process.argv.slice(2);
const selected = only.length > 0 ? packages.filter((p) => only.includes(p)) : packages;
const results: Array<[string, boolean]> = [];
if (only.length === 0) results.push(["typecheck", run("typecheck", ["bun", "x", "tsc", "-p", "tsconfig.json", "--noEmit"], root)]);
results.push(["web build", run("web build", ["bun", "run", "build"], join(root, "web"))]);
for (const p of selected) {
  const dir = join(root, p);
  if (hasTests(dir)) results.push([p, run(p, ["bun", "test", "--timeout", "120000"], dir)]);
}
if (only.length === 0 && (process.env.CI === "true" || process.env.SMOKE === "1")) {
  results.push(["container smoke", run("container smoke", ["bash", "deploy/smoke/run.sh"], root)]);
} else if (only.length === 0) {
  console.log("\n(container smoke test not run: set SMOKE=1, as root, to include it; CI always does)");
}
const failed = results.filter(([, ok]) => !ok).map(([name]) => name);
console.log(`\nsuites: ${results.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (${failed.join(", ")})` : ""}`);
process.exit(failed.length === 0 ? 0 : 1);
