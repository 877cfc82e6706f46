/** The namespace helpers (e2e/harness/netns.ts): what runs without root. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sh, staleNamespaces, writeChromiumWrapper } from "./netns.ts";

describe("sh", () => {
  test("returns stdout; throws with the command and its stderr when it fails, unless allowed to", () => {
    expect(sh(["echo", "hi"])).toBe("hi\n");
    expect(() => sh(["sh", "-c", "echo oops >&2; exit 3"])).toThrow(/exit 3: oops/);
    expect(sh(["sh", "-c", "echo partial; exit 1"], true)).toBe("partial\n");
  });
});

describe("staleNamespaces", () => {
  test("picks the prefix's namespaces whose pid is dead, whatever follows the pid", () => {
    const listing = "bst12node (id: 3)\nbst12client\nbst99media (id: 1)\nbsk12 (id: 0)\nother\n\n";
    expect(staleNamespaces(listing, "bst", (pid) => pid === 99)).toEqual(["bst12node", "bst12client"]);
    expect(staleNamespaces(listing, "bsk", () => false)).toEqual(["bsk12"]);
    expect(staleNamespaces(listing, "bst", () => true)).toEqual([]);
    expect(staleNamespaces("bstx (id: 2)\n", "bst", () => false)).toEqual([]); // no pid: not ours
  });
});

describe("writeChromiumWrapper", () => {
  test("an executable script that execs the browser inside the namespace with the arguments it got", () => {
    const dir = mkdtempSync(join(tmpdir(), "netns-test-"));
    try {
      const path = join(dir, "chromium.sh");
      writeChromiumWrapper(path, "bst1client", "/usr/bin/chromium");
      expect(readFileSync(path, "utf8")).toBe('#!/bin/sh\nexec ip netns exec bst1client /usr/bin/chromium "$@"\n');
      expect(statSync(path).mode & 0o111).toBe(0o111);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
