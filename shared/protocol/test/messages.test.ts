import { describe, expect, test } from "bun:test";
import { MAX_ERROR_MESSAGE_CHARS, ProtocolError, capText } from "../src/errors.ts";
import {
  DEFAULT_SETTINGS,
  LIVE_SETTINGS,
  NO_NETWORK,
  SESSION_ID_BYTES,
  SESSION_ID_LENGTH,
  SESSION_ID_PATTERN,
  SCENES,
  applyUpdate,
  parseMediaOfferAnswer,
  parseMediaAlive,
  parseSessionResumed,
  parseMediaOfferRequest,
  parseNetworkSettings,
  parseSessionResume,
  parseSessionControl,
  parseSessionEnded,
  parseVideoWanted,
  parseSessionEvent,
  parseSessionId,
  parseScene,
  parseSessionUpdate,
  parseSettings,
  parseStartSessionRequest,
} from "../src/messages.ts";
import { QUEUE, subjects } from "../src/subjects.ts";
import { asNumber, asObject, asString, describeInput, optionalNumber } from "../src/validate.ts";

const SID = "Zm9vYmFyYmF6cXV4MTIzNA";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  return "none";
}

describe("validate", () => {
  test("asObject accepts plain objects only", () => {
    expect(asObject({ a: 1 }, "x")).toEqual({ a: 1 });
    for (const bad of [null, [], 1, "s", undefined]) expect(() => asObject(bad, "thing")).toThrow("thing must be an object");
  });

  test("asString checks type, emptiness, length and pattern", () => {
    expect(asString("abc", "s", 3)).toBe("abc");
    expect(code(() => asString("abcd", "s", 3))).toBe("bad_request");
    expect(code(() => asString("", "s", 3))).toBe("bad_request");
    expect(code(() => asString(5, "s", 3))).toBe("bad_request");
    expect(() => asString("x!", "s", 9, /^[a-z]+$/)).toThrow(/matching/);
  });

  test("asNumber checks finiteness, range and integrality; optionalNumber passes undefined", () => {
    expect(asNumber(2.5, "n", 0, 3)).toBe(2.5);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1, 4, "2"]) expect(code(() => asNumber(bad, "n", 0, 3))).toBe("bad_request");
    expect(() => asNumber(2.5, "n", 0, 3, true)).toThrow("n must be an integer in 0–3");
    expect(optionalNumber(undefined, "n", 0, 1)).toBeUndefined();
    expect(optionalNumber(1, "n", 0, 1)).toBe(1);
    expect(code(() => optionalNumber(null, "n", 0, 1))).toBe("bad_request");
  });
});

describe("error texts stay bounded whatever the client sent", () => {
  test("describeInput quotes at most 32 characters of a string and names other values by type", () => {
    expect(describeInput("offer")).toBe('"offer"');
    expect(describeInput("x".repeat(65_500))).toBe(`"${"x".repeat(31)}…"`);
    expect(describeInput('"\n')).toBe('"\\"\\n"');
    expect([5, null, [], {}, undefined].map(describeInput)).toEqual(["a number", "null", "an array", "an object", "undefined"]);
  });

  test("capText cuts with an ellipsis; ProtocolError messages are capped at MAX_ERROR_MESSAGE_CHARS", () => {
    expect(capText("short", 10)).toBe("short");
    expect(capText("abcdefghijk", 5)).toBe("abcd…");
    const err = new ProtocolError("bad_request", `echo ${"y".repeat(100_000)}`);
    expect(err.message.length).toBe(MAX_ERROR_MESSAGE_CHARS);
    expect(err.message.endsWith("…")).toBe(true);
  });
});

describe("settings", () => {
  test("fills gaps from the defaults (or a given base)", () => {
    expect(parseSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings({ fps: 60, ballColor: "#00ff00" })).toEqual({ ...DEFAULT_SETTINGS, fps: 60, ballColor: "#00ff00" });
    const base = { ...DEFAULT_SETTINGS, width: 320, height: 240 };
    expect(parseSettings({ radius: 10 }, base)).toEqual({ ...base, radius: 10 });
  });

  test("enforces ranges, even sizes, colours and a ball that fits", () => {
    for (const bad of [{ fps: 0 }, { fps: 121 }, { fps: 2.5 }, { width: 63 }, { width: 641 }, { height: 2000 }, { radius: 1 }, { speed: -1 }, { ballColor: "red" }, { backgroundColor: "#12345" }, { width: 64, height: 64, radius: 32 }, "x"]) {
      expect(code(() => parseSettings(bad))).toBe("bad_request");
    }
    expect(parseSettings({ width: 64, height: 64, radius: 31.5 }).radius).toBe(31.5);
  });

  test("scene: flat by default, one of SCENES, anything else refused with the allowed names", () => {
    expect(DEFAULT_SETTINGS.scene).toBe("flat");
    for (const scene of SCENES) expect(parseSettings({ scene }).scene).toBe(scene);
    expect(parseScene("noise")).toBe("noise");
    for (const bad of ["Noise", "", 1, null, {}]) expect(code(() => parseScene(bad))).toBe("bad_request");
    expect(() => parseSettings({ scene: "snow" })).toThrow(/settings\.scene must be one of flat, noise, texture, not "snow"/);
  });
});

describe("session messages", () => {
  test("start request", () => {
    expect(parseStartSessionRequest({ sessionId: SID, settings: { fps: 5 } })).toEqual({ sessionId: SID, settings: { ...DEFAULT_SETTINGS, fps: 5 } });
    expect(code(() => parseStartSessionRequest({ sessionId: "bad id", settings: {} }))).toBe("bad_request");
    expect(code(() => parseStartSessionRequest({ sessionId: `${SID}x` }))).toBe("bad_request");
  });

  test("start request for a takeover: the ball's state (its box from the settings) and the next frame id", () => {
    const ball = { x: 100, y: 50.5, vx: -200, vy: 10, timeMs: 1_764_000_000_000 };
    const request = parseStartSessionRequest({ sessionId: SID, settings: {}, resume: { ball: { ...ball, width: 9999 }, nextFrameId: 42 } });
    expect(request.resume).toEqual({ ball: { ...ball, width: 640, height: 480, radius: 24 }, nextFrameId: 42 });
    for (const bad of [{ ball, nextFrameId: -1 }, { ball, nextFrameId: 1.5 }, { ball: { ...ball, x: 641 }, nextFrameId: 1 }, { ball: { ...ball, vx: Number.NaN }, nextFrameId: 1 }, { nextFrameId: 1 }]) {
      expect(code(() => parseStartSessionRequest({ sessionId: SID, settings: {}, resume: bad })), JSON.stringify(bad)).toBe("bad_request");
    }
    expect(parseSessionResume({ ball, nextFrameId: 0 }, { ...DEFAULT_SETTINGS, width: 320, height: 240, radius: 10 }).ball).toMatchObject({ width: 320, height: 240, radius: 10 });
  });

  test("control: a live change of fps and/or speed, or stop", () => {
    expect(parseSessionControl({ type: "stop", fps: 3 })).toEqual({ type: "stop" });
    expect(parseSessionControl({ type: "control", fps: 60 })).toEqual({ type: "control", fps: 60 });
    expect(parseSessionControl({ type: "control", speed: 0 })).toEqual({ type: "control", speed: 0 });
    expect(parseSessionControl({ type: "control" })).toEqual({ type: "control" });
    expect(code(() => parseSessionControl({ type: "pause" }))).toBe("bad_request");
    expect(code(() => parseSessionControl({ type: "update", fps: 60 }))).toBe("bad_request");
    expect(code(() => parseSessionControl({ type: "control", speed: 5001 }))).toBe("bad_request");
  });

  test("live settings: fps and speed, checked with the settings' limits, and the network", () => {
    expect(LIVE_SETTINGS).toEqual(["fps", "speed", "network"]);
    expect(parseSessionUpdate({ fps: 1, speed: 2.5, width: 9 })).toEqual({ fps: 1, speed: 2.5 });
    expect(parseSessionUpdate({ network: { down: "loss=5%" } })).toEqual({ network: { down: "loss=5%", up: "" } });
    expect(parseSessionUpdate({})).toEqual({});
    for (const bad of [{ fps: 0 }, { fps: 121 }, { fps: 1.5 }, { speed: -1 }, { speed: "3" }]) expect(code(() => parseSessionUpdate(bad))).toBe("bad_request");
  });

  test("applyUpdate replaces exactly the fields the update has", () => {
    const s = { ...DEFAULT_SETTINGS, fps: 30, speed: 320 };
    expect(applyUpdate(s, { fps: 120 })).toEqual({ ...s, fps: 120 });
    expect(applyUpdate(s, { speed: 0 })).toEqual({ ...s, speed: 0 });
    expect(applyUpdate(s, { fps: 1, speed: 5 })).toEqual({ ...s, fps: 1, speed: 5 });
    expect(applyUpdate(s, {})).toEqual(s);
    expect(applyUpdate(s, { network: { down: "delay=50ms", up: "" } })).toEqual({ ...s, network: { down: "delay=50ms", up: "" } });
    expect(s.fps).toBe(30);
  });

  test("media offer and answer", () => {
    expect(parseMediaOfferRequest({ sessionId: SID, sdp: "v=0", settings: {} })).toEqual({ sessionId: SID, sdp: "v=0" });
    expect(code(() => parseMediaOfferRequest({ sessionId: SID, sdp: "" }))).toBe("bad_request");
    expect(parseMediaOfferRequest({ sessionId: SID, sdp: "v=0", network: { up: "loss=1%" } })).toEqual({ sessionId: SID, sdp: "v=0", network: { down: "", up: "loss=1%" } });
    expect(code(() => parseMediaOfferRequest({ sessionId: SID, sdp: "v=0", network: { down: "loss=200%" } }))).toBe("bad_request");
    expect(parseMediaOfferAnswer({ sdp: "v=0 a" })).toEqual({ sdp: "v=0 a" });
    expect(parseMediaOfferRequest({ sessionId: SID })).toEqual({ sessionId: SID });
    expect(parseMediaOfferAnswer({})).toEqual({});
    expect(code(() => parseMediaOfferAnswer({ sdp: 5 }))).toBe("bad_request");
    expect(parseMediaOfferAnswer({ sdp: "v=0 a", instance: "Ab_-9" })).toEqual({ sdp: "v=0 a", instance: "Ab_-9" });
    expect(code(() => parseMediaOfferAnswer({ instance: "a.b" }))).toBe("bad_request"); // not one NATS token
    expect(code(() => parseMediaOfferAnswer({ instance: "x".repeat(65) }))).toBe("bad_request");
    expect(parseMediaAlive({ leaving: true })).toEqual({ leaving: true });
    expect(parseSessionResumed({ by: "wt-7" })).toEqual({ by: "wt-7" });
    expect(code(() => parseSessionResumed({ by: 7 }))).toBe("bad_request");
    expect(code(() => parseMediaAlive({}))).toBe("bad_request");
    expect(parseVideoWanted({ keyframe: true })).toEqual({ keyframe: true });
    expect(parseVideoWanted({})).toEqual({ keyframe: false });
    expect(code(() => parseVideoWanted(null))).toBe("bad_request");
  });

  test("ended and event", () => {
    expect(parseSessionEnded({ reason: "viewer left" })).toEqual({ reason: "viewer left" });
    expect(code(() => parseSessionEnded({ reason: "" }))).toBe("bad_request");
    expect(parseSessionEvent({ source: "generator", message: "worker crashed", fatal: true })).toEqual({ source: "generator", message: "worker crashed", fatal: true });
    expect(() => parseSessionEvent({ source: "signaling", message: "m", fatal: true })).toThrow(/source/);
    expect(() => parseSessionEvent({ source: "media", message: "m", fatal: "yes" })).toThrow(/fatal/);
  });
});

describe("network settings", () => {
  test("each way is a link-spec text kept in canonical form; gaps come from the base", () => {
    expect(parseNetworkSettings({})).toEqual(NO_NETWORK);
    expect(parseNetworkSettings({ down: "loss=0.05, delay=50ms", up: "off" })).toEqual({ down: "loss=5%,delay=50ms", up: "" });
    expect(parseNetworkSettings({ up: "rate=1mbit" }, { down: "loss=1%", up: "" })).toEqual({ down: "loss=1%", up: "rate=1000kbit,queue=6250b" });
    expect(parseSettings({ network: { down: "blackout=1s" } }).network).toEqual({ down: "blackout=1000ms,blackout-at=0ms", up: "" });
    expect(DEFAULT_SETTINGS.network).toEqual(NO_NETWORK);
  });

  test("refuses a bad spec, a non-string and an overlong text, naming the way, with a short message", () => {
    for (const bad of [{ down: "loss=2" }, { up: 5 }, { down: "x".repeat(300) }, "loss=1%", { up: `${"y".repeat(200)}=1` }]) {
      let error: unknown;
      try {
        parseNetworkSettings(bad);
      } catch (err) {
        error = err;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe("bad_request");
      expect((error as ProtocolError).message).toMatch(/^settings\.network/);
      expect((error as ProtocolError).message.length).toBeLessThan(240);
    }
  });
});

describe("session ids", () => {
  test("16 random bytes make 22 base64url characters; parseSessionId takes exactly those", () => {
    expect([SESSION_ID_BYTES, SESSION_ID_LENGTH]).toEqual([16, 22]);
    expect(parseSessionId(SID)).toBe(SID);
    for (const bad of [SID.slice(1), `${SID}A`, `${SID.slice(1)}.`, 22, undefined]) expect(code(() => parseSessionId(bad))).toBe("bad_request");
  });
});

describe("subjects", () => {
  test("per-session subjects are distinct, valid and carry the id as one token", () => {
    expect(SESSION_ID_PATTERN.test(SID)).toBe(true);
    const perSession = [subjects.sessionControl, subjects.frames, subjects.truth, subjects.heartbeat, subjects.ended, subjects.network, subjects.events].map((f) => f(SID));
    expect(new Set(perSession).size).toBe(perSession.length);
    for (const s of [...perSession, subjects.generatorStart, subjects.mediaOffer]) expect(s).toMatch(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/);
    for (const s of perSession) expect(s.split(".")).toContain(SID);
    expect(QUEUE).toEqual({ generator: "generator", media: "media" });
  });
});

describe("ProtocolError", () => {
  test("carries its code and name", () => {
    const e = new ProtocolError("unknown_session", "no such session");
    expect([e.code, e.name, e.message, e instanceof Error]).toEqual(["unknown_session", "ProtocolError", "no such session", true]);
  });
});
