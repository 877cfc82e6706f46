/** Broadcast channels on the page: the address, the links, what the page says, which controls a viewer may use. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, parseClientMessage } from "@ballstream/protocol";
import {
  channelFields, channelFromQuery, channelLabel, channelLink, checkedChannelName, joinAddress, liveSettingsLock, networkToRestore, nextJoin, refusedChange,
} from "../src/lib/channel.ts";
import { createHook } from "../src/lib/hook.ts";
import { SAMPLE_COLUMNS, sampleOf, toCsv, withChannel } from "../src/lib/samples.ts";
import { SessionStore } from "../src/lib/session-state.ts";

const PAGE = "http://127.0.0.1:8080/?fps=60&transport=both#x";
const owner = { name: "lobby", owner: true, ownerToken: "o.k-1" };
const viewer = { name: "lobby", owner: false };

describe("channelFromQuery", () => {
  test("no channel: a private session", () => {
    expect(channelFromQuery("")).toEqual({ join: null, error: null });
    expect(channelFromQuery("?fps=60")).toEqual({ join: null, error: null });
  });
  test("?channel=NAME, and &owner=TOKEN for its owner", () => {
    expect(channelFromQuery("?channel=lobby_1-x&fps=60")).toEqual({ join: { channel: "lobby_1-x" }, error: null });
    expect(channelFromQuery("?channel=lobby&owner=o.k-1")).toEqual({ join: { channel: "lobby", ownerToken: "o.k-1" }, error: null });
  });
  test("a bad name, an empty one or a bad token: a message and no join", () => {
    for (const search of ["?channel=a%20b", "?channel=", "?channel=" + "x".repeat(33), "?channel=..%2Fx"]) {
      const { join, error } = channelFromQuery(search);
      expect(join).toBeNull();
      expect(error).toContain("Not connecting: Not a channel name");
      expect(error).toContain("1–32 letters, digits");
    }
    const badToken = channelFromQuery("?channel=lobby&owner=%3Cscript%3E");
    expect(badToken.join).toBeNull();
    expect(badToken.error).toContain("owner token");
  });
  test("owner= without channel= is refused, not a private session", () => {
    const { join, error } = channelFromQuery("?owner=o.k");
    expect(join).toBeNull();
    expect(error).toContain("owner= but no channel=");
  });
});

describe("what offers and resumes carry", () => {
  test("channelFields: nothing for a private session, the name and the token as given", () => {
    expect(channelFields(null)).toEqual({});
    expect(channelFields({ channel: "lobby" })).toEqual({ channel: "lobby" });
    expect(channelFields({ channel: "lobby", ownerToken: "t" })).toEqual({ channel: "lobby", ownerToken: "t" });
  });
  test("the fields pass the server's own validation of an offer and a resume", () => {
    const fields = channelFields({ channel: "lobby", ownerToken: "o.k-1" });
    expect(parseClientMessage({ type: "offer", sdp: "v=0", settings: {}, ...fields })).toMatchObject(fields);
    expect(parseClientMessage({ type: "resume", sessionId: "A".repeat(22), token: "r.t", ...fields })).toMatchObject(fields);
  });
  test("nextJoin keeps the owner token the server gave; a viewer's join and a private session are unchanged", () => {
    expect(nextJoin({ channel: "lobby" }, owner)).toEqual({ channel: "lobby", ownerToken: "o.k-1" });
    expect(nextJoin({ channel: "lobby", ownerToken: "old" }, owner)).toEqual({ channel: "lobby", ownerToken: "o.k-1" });
    expect(nextJoin({ channel: "lobby" }, viewer)).toEqual({ channel: "lobby" });
    expect(nextJoin({ channel: "lobby", ownerToken: "mine" }, viewer)).toEqual({ channel: "lobby", ownerToken: "mine" });
    expect(nextJoin({ channel: "lobby" }, undefined)).toEqual({ channel: "lobby" });
    expect(nextJoin(null, owner)).toBeNull();
    expect(nextJoin({ channel: "other" }, owner)).toEqual({ channel: "other" }); // not this channel's token
  });
});

describe("a channel viewer's network across a resume", () => {
  const lossy = { down: "loss=5%", up: "" };
  const none = { down: "", up: "" };
  test("networkToRestore: the viewer's own link, sent again when the resumed channel session lost it", () => {
    expect(networkToRestore(viewer, lossy, none)).toEqual(lossy);
    expect(networkToRestore(owner, lossy, none)).toEqual(lossy);
  });
  test("nothing to send: a private session (the server keeps it), none before, or the same in force", () => {
    expect(networkToRestore(undefined, lossy, none)).toBeNull();
    expect(networkToRestore(viewer, none, none)).toBeNull();
    expect(networkToRestore(viewer, undefined, none)).toBeNull();
    expect(networkToRestore(viewer, lossy, { ...lossy })).toBeNull();
  });
});

describe("links and the join box", () => {
  test("channelLink: this page with only ?channel= (and &owner= for the owner's link)", () => {
    expect(channelLink(PAGE, "lobby")).toBe("http://127.0.0.1:8080/?channel=lobby");
    expect(channelLink(PAGE, "lobby", "o.k-1")).toBe("http://127.0.0.1:8080/?channel=lobby&owner=o.k-1");
    expect(channelFromQuery(new URL(channelLink(PAGE, "lobby", "o.k-1")).search).join).toEqual({ channel: "lobby", ownerToken: "o.k-1" });
  });
  test("joinAddress: the typed name, trimmed and checked", () => {
    expect(joinAddress(PAGE, "  lobby ")).toBe("http://127.0.0.1:8080/?channel=lobby");
    expect(() => joinAddress(PAGE, "")).toThrow("Not a channel name");
    expect(() => joinAddress(PAGE, "my room")).toThrow("1–32 letters");
    expect(checkedChannelName("x".repeat(32))).toBe("x".repeat(32));
  });
});

describe("what the page says and which controls a viewer may use", () => {
  test("channelLabel names the channel and the viewer's part", () => {
    expect(channelLabel(owner)).toBe("Channel lobby · you own it");
    expect(channelLabel(viewer)).toBe("Channel lobby · watching (the owner sets fps and speed)");
  });
  test("liveSettingsLock: only a viewer of a channel it does not own is locked, and it is told why", () => {
    expect(liveSettingsLock(null)).toBeNull();
    expect(liveSettingsLock(owner)).toBeNull();
    expect(liveSettingsLock(viewer)).toContain("only its owner changes fps and speed");
  });
  test("refusedChange: fps or speed from a non-owner is refused; the network is anyone's own", () => {
    expect(refusedChange({ fps: 60 }, viewer)).toContain("Not sent");
    expect(refusedChange({ speed: 100, network: { down: "", up: "" } }, viewer)).toContain("Not sent");
    expect(refusedChange({ network: { down: "loss=5%", up: "" } }, viewer)).toBeNull();
    expect(refusedChange({ fps: 60 }, owner)).toBeNull();
    expect(refusedChange({ fps: 60 }, null)).toBeNull();
  });
});

describe("the channel in the store, the hook and the samples", () => {
  test("the session message's channel reaches the state and the hook; a private session has none", () => {
    const store = new SessionStore(() => undefined);
    const hook = createHook({ state: store.state, samples: () => [], wtSamples: () => [], control: async () => undefined, stop: async () => undefined });
    expect(hook.channel).toBeNull();
    store.opened("A".repeat(22), DEFAULT_SETTINGS, viewer);
    expect(hook.channel).toEqual(viewer);
    const own = new SessionStore(() => undefined);
    own.opened("B".repeat(22), DEFAULT_SETTINGS);
    expect(own.state.channel).toBeNull();
  });
  test("withChannel names the channel on every sample; the CSV's last column is channel, empty for a private session", () => {
    const report = {
      frameMatched: true, found: true, frameId: 9, rtpTimestamp: 7, detectedX: 1, detectedY: 2, frameTruthX: 1.5, frameTruthY: 2,
      nowTruthX: 6, nowTruthY: 2, realtimeErrorPx: 5, frameErrorPx: 0.5, latencyMs: 30, captureTimeMs: 1000, arrivalMs: 1030,
    };
    const samples = withChannel([sampleOf(report, null), sampleOf(report, null)], "lobby");
    expect(samples.map((s) => s.channel)).toEqual(["lobby", "lobby"]);
    expect(SAMPLE_COLUMNS[SAMPLE_COLUMNS.indexOf("gapMs") + 1]).toBe("channel");
    const [header, row] = toCsv(samples).trim().split("\n");
    const at = SAMPLE_COLUMNS.indexOf("channel");
    expect(header!.split(",")[at]).toBe("channel");
    expect(row!.split(",")[at]).toBe("lobby");
    expect(toCsv(withChannel([sampleOf(report, null)], null)).trim().split("\n")[1]!.split(",")[at]).toBe("");
  });
});
