/** The namespace helpers (e2e/harness/netns.ts): what runs without root. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeStaleNamespaces, sh, staleNamespaces, writeChromiumWrapper } from "./netns.ts";

const isRoot = process.getuid?.() === 0;

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

describe("removeStaleNamespaces", () => {
  test.skipIf(!isRoot)("as root: deletes a dead run's namespace and kills what it left running inside; leaves live runs' alone", async () => {
    const dead = `bsu${2 ** 22 + 7}x`; // no such pid
    const live = `bsu${process.pid}x`;
    for (const ns of [dead, live]) sh(["ip", "netns", "add", ns]);
    const orphan = Bun.spawn(["ip", "netns", "exec", dead, "sleep", "30"], { stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < 50 && !sh(["ip", "netns", "pids", dead], true).trim(); i++) await Bun.sleep(20);
      expect(removeStaleNamespaces("bsu")).toEqual([dead]);
      expect(await Promise.race([orphan.exited, Bun.sleep(2000).then(() => "still running")])).not.toBe("still running");
      const left = sh(["ip", "netns", "list"]);
      expect(left).not.toContain(dead);
      expect(left).toContain(live);
    } finally {
      orphan.kill("SIGKILL");
      for (const ns of [dead, live]) sh(["ip", "netns", "del", ns], true);
    }
  });
});
