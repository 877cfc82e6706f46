import { describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, checkChannelRoles, parseClaim, parseMediaOfferRequest, parseStartSessionRequest, yieldsTo } from "../src/messages.ts";
import { parseChannelName, parseClientMessage, parseServerMessage } from "../src/wt-protocol.ts";
import { subjects } from "../src/subjects.ts";

const A = "A".repeat(22);
const B = "B".repeat(22);

describe("channel names", () => {
  test("1–32 URL-safe characters pass; anything else is a bad request", () => {
    expect(parseChannelName("lobby_1-x")).toBe("lobby_1-x");
    expect(parseChannelName("x".repeat(32))).toBe("x".repeat(32));
    for (const bad of ["", "x".repeat(33), "a.b", "a b", "ä", 7, null]) expect(() => parseChannelName(bad)).toThrow();
  });
});

describe("joining a channel", () => {
  test("an offer and a resume carry the channel and the owner token", () => {
    expect(parseClientMessage({ type: "offer", sdp: "v=0", channel: "lobby", ownerToken: "t.k" })).toEqual({ type: "offer", sdp: "v=0", channel: "lobby", ownerToken: "t.k" });
    expect(parseClientMessage({ type: "resume", sessionId: A, token: "m.x", channel: "lobby" })).toEqual({ type: "resume", sessionId: A, token: "m.x", channel: "lobby" });
    expect(parseClientMessage({ type: "offer", sdp: "v=0" })).toEqual({ type: "offer", sdp: "v=0" });
  });

  test("an owner token without a channel, or a token with foreign characters, is refused", () => {
    expect(() => parseClientMessage({ type: "offer", sdp: "v=0", ownerToken: "t" })).toThrow("ownerToken needs a channel");
    expect(() => parseClientMessage({ type: "offer", sdp: "v=0", channel: "lobby", ownerToken: "<script>" })).toThrow();
    expect(() => parseClientMessage({ type: "offer", sdp: "v=0", channel: "../x" })).toThrow();
  });

  test("the session message says whose channel it is", () => {
    const m = parseServerMessage({ type: "session", sessionId: A, settings: DEFAULT_SETTINGS, channel: { name: "lobby", owner: true, ownerToken: "o.k" } });
    expect(m).toMatchObject({ channel: { name: "lobby", owner: true, ownerToken: "o.k" } });
    expect(() => parseServerMessage({ type: "session", sessionId: A, settings: DEFAULT_SETTINGS, channel: { name: "lobby" } })).toThrow("channel.owner");
  });
});

describe("channel roles on the bus", () => {
  test("a viewer names its channel's source; a source says so", () => {
    expect(parseMediaOfferRequest({ sessionId: A, sdp: "v=0", channel: B })).toEqual({ sessionId: A, sdp: "v=0", channel: B });
    expect(parseMediaOfferRequest({ sessionId: B, channelSource: true })).toEqual({ sessionId: B, channelSource: true });
    expect(() => parseMediaOfferRequest({ sessionId: A, sdp: "v=0", channel: "short" })).toThrow();
    expect(parseStartSessionRequest({ sessionId: B, settings: DEFAULT_SETTINGS, channel: true }).channel).toBe(true);
    expect(parseStartSessionRequest({ sessionId: B, settings: DEFAULT_SETTINGS }).channel).toBeUndefined();
  });

  test("impossible combinations are refused before any work", () => {
    expect(() => checkChannelRoles({ sessionId: B, channelSource: true, sdp: "v=0" })).toThrow("channel source");
    expect(() => checkChannelRoles({ sessionId: B, channelSource: true, channel: A })).toThrow("channel source");
    expect(() => checkChannelRoles({ sessionId: A, channel: B })).toThrow("needs an SDP offer");
    expect(() => checkChannelRoles({ sessionId: A, sdp: "v=0", channel: A })).toThrow("cannot be the channel's");
    expect(() => checkChannelRoles({ sessionId: A, sdp: "v=0", channel: B })).not.toThrow();
    expect(() => checkChannelRoles({ sessionId: B, channelSource: true })).not.toThrow();
  });

  test("claims: the older claimant stays, a tie goes to the smaller instance, nobody yields to itself", () => {
    const older = { instance: "zz", sinceMs: 100 };
    const younger = { instance: "aa", sinceMs: 200 };
    expect(yieldsTo(younger, older)).toBe(true);
    expect(yieldsTo(older, younger)).toBe(false);
    expect(yieldsTo({ instance: "b", sinceMs: 5 }, { instance: "a", sinceMs: 5 })).toBe(true);
    expect(yieldsTo({ instance: "a", sinceMs: 5 }, { instance: "b", sinceMs: 5 })).toBe(false);
    expect(yieldsTo(older, { ...older, sinceMs: 1 })).toBe(false);
    expect(parseClaim({ instance: "abc", sinceMs: 12 })).toEqual({ instance: "abc", sinceMs: 12 });
    expect(() => parseClaim({ instance: "a.b", sinceMs: 12 })).toThrow();
    expect(() => parseClaim({ instance: "a", sinceMs: -1 })).toThrow();
  });

  test("the settings and claim subjects are per session and per service", () => {
    expect(subjects.settings(A)).toBe(`ballstream.session.${A}.settings`);
    expect(subjects.claim(A, "media")).toBe(`ballstream.session.${A}.claim.media`);
    expect(subjects.claim(A, "generator")).not.toBe(subjects.claim(A, "media"));
  });
});
