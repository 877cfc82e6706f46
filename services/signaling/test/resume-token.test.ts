/** ResumeTokens: a token works for its session under its secret only, names the media replica, resists tampering. */
import { expect, test } from "bun:test";
import { ResumeTokens } from "../src/resume-token.ts";

const SID = "A".repeat(22);
const SECRET = "a shared secret of the replicas";

test("a token issued by one replica is accepted by another with the same secret, for its session only", () => {
  const token = new ResumeTokens(SECRET).issue(SID, "media-1");
  expect(token.startsWith("media-1.")).toBe(true);
  expect(new ResumeTokens(SECRET).check(SID, token)).toEqual({ media: "media-1" });
  expect(new ResumeTokens(SECRET).check("B".repeat(22), token)).toBeNull(); // another session
  expect(new ResumeTokens("another secret, 16+ bytes").check(SID, token)).toBeNull();
  expect(new ResumeTokens().check(SID, token)).toBeNull(); // a random secret of its own
});

test("the media replica cannot be swapped, the MAC cannot be cut; no replica: undefined", () => {
  const tokens = new ResumeTokens(SECRET);
  const token = tokens.issue(SID, "media-1");
  expect(tokens.check(SID, token.replace("media-1", "media-2"))).toBeNull();
  expect(tokens.check(SID, token.slice(0, -1))).toBeNull();
  expect(tokens.check(SID, "no-dot")).toBeNull();
  expect(tokens.check(SID, tokens.issue(SID, undefined))).toEqual({ media: undefined });
});

test("a secret shorter than 16 bytes is refused", () => {
  expect(() => new ResumeTokens("short")).toThrow(/at least 16 bytes/);
});

test("a channel viewer's token is good for its channel only; owner tokens are per channel and shared by replicas", () => {
  const tokens = new ResumeTokens(SECRET);
  const token = tokens.issue(SID, "media-1", "lobby");
  expect(tokens.check(SID, token, "lobby")).toEqual({ media: "media-1" });
  expect(tokens.check(SID, token, "other")).toBeNull();
  expect(tokens.check(SID, token)).toBeNull();
  const owner = tokens.ownerToken("C".repeat(22));
  expect(new ResumeTokens(SECRET).isOwner("C".repeat(22), owner)).toBe(true);
  expect(tokens.isOwner("D".repeat(22), owner)).toBe(false);
  expect(tokens.isOwner("C".repeat(22), undefined)).toBe(false);
  expect(tokens.isOwner("C".repeat(22), owner.slice(1))).toBe(false);
  expect(new ResumeTokens().isOwner("C".repeat(22), owner)).toBe(false);
});
