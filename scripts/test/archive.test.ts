import { describe, expect, test } from "bun:test";
import { archiveFileName, nameArgument, nameSlug } from "../lib/archive.ts";

describe("nameSlug", () => {
  test("folds accents, case and separators", () => {
    expect(nameSlug("  José María O'Brien ")).toBe("jose-maria-o-brien");
  });
  test("rejects a name with nothing usable", () => {
    expect(() => nameSlug("!!!")).toThrow(/no letters or digits/);
  });
});

describe("archiveFileName", () => {
  test("uses the UTC date", () => {
    expect(archiveFileName("Ada Lovelace", new Date("2026-11-25T23:59:00Z"))).toBe("ballstream-ada-lovelace-2026-11-25.tar.gz");
  });
});

describe("nameArgument", () => {
  test("reads both forms", () => {
    expect(nameArgument(["--name", "A B"])).toBe("A B");
    expect(nameArgument(["--x", "--name=C"])).toBe("C");
    expect(nameArgument(["--other"])).toBeUndefined();
  });
});
