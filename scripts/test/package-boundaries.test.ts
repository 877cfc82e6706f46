/**
 * The package rules of docs/architecture.md, checked on the tree: no import path climbs into another package's
 * folder, the protocol package imports no Node or Bun module and re-exports nothing with `export *`, and the page
 * and the runtime depend on what they may.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { ROOT } from "@ballstream/testing";

const tracked = (pattern: string): string[] =>
  new TextDecoder()
    .decode(Bun.spawnSync(["git", "ls-files", "-co", "--exclude-standard", pattern], { cwd: ROOT }).stdout)
    .split("\n")
    .filter((f) => f !== "" && !f.includes("node_modules"));

/** Every package's folder (where a package.json is), longest first so the nearest one wins. */
const packageDirs = tracked("*package.json")
  .map((f) => dirname(f))
  .sort((a, b) => b.length - a.length);

/** The folder of the package a repository path belongs to ("." for the root package). */
function packageOf(path: string, dirs: readonly string[] = packageDirs): string {
  return dirs.find((d) => d !== "." && (path === d || path.startsWith(`${d}/`))) ?? ".";
}

/** Relative import specifiers of a source text (static, dynamic and `typeof import`). */
function relativeImports(source: string): string[] {
  return [...source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!);
}

const sources = [...tracked("*.ts"), ...tracked("*.svelte")];

describe("package boundaries", () => {
  test("packageOf and relativeImports read paths and specifiers as the rules mean them", () => {
    const dirs = ["shared/protocol", "services/media", "."];
    expect(packageOf("shared/protocol/src/x.ts", dirs)).toBe("shared/protocol");
    expect(packageOf("scripts/bench.ts", dirs)).toBe(".");
    expect(relativeImports('import { a } from "../x.ts";\nconst m = await import("./y.ts");\ntype T = typeof import("../../z");\nimport "@b/c";')).toEqual(["../x.ts", "./y.ts", "../../z"]);
  });

  test("no import path climbs into another package's folder", () => {
    const crossing: string[] = [];
    for (const file of sources) {
      for (const spec of relativeImports(readFileSync(join(ROOT, file), "utf8"))) {
        const target = normalize(join(dirname(file), spec));
        if (packageOf(target) !== packageOf(file)) crossing.push(`${file} → ${relative(".", target)}`);
      }
    }
    expect(crossing).toEqual([]);
  });

  test("the protocol package is browser-safe: no Node or Bun imports, no Bun globals, no export *", () => {
    const offending: string[] = [];
    for (const file of sources.filter((f) => f.startsWith("shared/protocol/src/"))) {
      const text = readFileSync(join(ROOT, file), "utf8");
      if (/from\s+"(node:|bun)|\bBun\.|\bprocess\./.test(text)) offending.push(`${file}: runtime import`);
      if (/^export \*/m.test(text)) offending.push(`${file}: export *`);
    }
    expect(offending).toEqual([]);
  });

  test("the page imports only the protocol among our packages; services and the runtime never import testing", () => {
    const wrong: string[] = [];
    for (const file of sources) {
      const text = readFileSync(join(ROOT, file), "utf8");
      const ours = [...text.matchAll(/from\s+"(@ballstream\/[\w-]+)/g)].map((m) => m[1]!);
      const allowed = file.startsWith("web/src/")
        ? ["@ballstream/protocol"]
        : /^(services\/\w+\/src|shared\/(protocol|runtime)\/src)\//.test(file)
          ? ["@ballstream/protocol", "@ballstream/runtime", "@ballstream/generator", "@ballstream/media", "@ballstream/signaling"]
          : null;
      if (allowed) for (const spec of ours) if (!allowed.includes(spec)) wrong.push(`${file} imports ${spec}`);
    }
    expect(wrong).toEqual([]);
  });
});
