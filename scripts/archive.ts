/**
 * Writes `ballstream-<name-slug>-<date>.tar.gz` of the project's tracked files (as they are in the working tree;
 * no node_modules, nothing ignored) in the repository root, and prints its path and size.
 * Usage: `bun run archive -- --name "Full Name"`.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { archiveFileName, nameArgument } from "./lib/archive.ts";

const root = join(import.meta.dir, "..");
const name = nameArgument(process.argv.slice(2));
if (!name) {
  console.error('usage: bun run archive -- --name "Full Name"');
  process.exit(2);
}
const file = join(root, archiveFileName(name, new Date()));
const files = Bun.spawnSync(["git", "ls-files", "-z"], { cwd: root });
if (files.exitCode !== 0) {
  console.error(`git ls-files failed: ${files.stderr.toString()}`);
  process.exit(1);
}
const tar = Bun.spawnSync(["tar", "--null", "-czf", file, "--transform", "s,^,ballstream/,", "-T", "-"], { cwd: root, stdin: files.stdout });
if (tar.exitCode !== 0) {
  console.error(`tar failed: ${tar.stderr.toString()}`);
  process.exit(1);
}
console.log(`${file} (${(statSync(file).size / 1024 / 1024).toFixed(2)} MiB)`);
