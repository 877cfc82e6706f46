import { describe, expect, test } from "bun:test";
import { SESSION_ID_PATTERN } from "@ballstream/protocol";
import { newSessionId } from "../src/session-id.ts";

describe("newSessionId", () => {
  test("is 22 base64url characters matching the shared pattern", () => {
    for (let i = 0; i < 200; i++) expect(newSessionId()).toMatch(SESSION_ID_PATTERN);
  });

  test("decodes to 16 bytes", () => {
    expect(Buffer.from(newSessionId(), "base64url").length).toBe(16);
  });

  test("does not repeat", () => {
    const ids = new Set(Array.from({ length: 1000 }, newSessionId));
    expect(ids.size).toBe(1000);
  });
});
