/** The JSON messages that travel between services on the bus, with their validators. */
import { type ErrorCode, ProtocolError } from "./errors.ts";
import { MAX_LINK_SPEC_CHARS, formatLinkConditions, parseLinkConditions } from "./link-spec.ts";
import type { BallState } from "./physics.ts";
import { asNumber, asObject, asString, describeInput, optionalNumber } from "./validate.ts";

/** Random bytes in a session id: 128 bits, unguessable. */
export const SESSION_ID_BYTES = 16;
/** Characters of a session id: {@link SESSION_ID_BYTES} in URL-safe base64 without padding (22). */
export const SESSION_ID_LENGTH = Math.ceil((SESSION_ID_BYTES * 8) / 6);
/** Session ids: {@link SESSION_ID_LENGTH} URL-safe base64 characters, also a valid NATS subject token. */
export const SESSION_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${SESSION_ID_LENGTH}}$`);

/** Validates a session id from another service or the server. */
export function parseSessionId(value: unknown): string {
  return asString(value, "sessionId", SESSION_ID_LENGTH, SESSION_ID_PATTERN);
}

const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;
/** SDP offers and answers larger than this are rejected. */
export const MAX_SDP_LENGTH = 32 * 1024;

/**
 * What the generator draws behind the ball: `flat` (the background colour: 0.6 kB a frame from x264 at CRF 23,
 * 640×480, 30 fps), `noise` (fresh uniform luma noise −8…+7 over it every frame: 22 kB a frame) or `texture` (a ±8
 * luma checkerboard scrolling at constant speed: 1.8 kB a frame, motion-predictable). Figures: docs/generator.md.
 */
export const SCENES = ["flat", "noise", "texture"] as const;

/** One of the {@link SCENES}. */
export type Scene = (typeof SCENES)[number];

/**
 * A session's emulated network (the page's network panel, docs/network-lab.md): a link-spec text for each way,
 * `down` (server → page: what media and signaling send) and `up` (page → server), "" for a perfect link. Kept in
 * canonical form, so the text shown is the text in force.
 */
export interface NetworkSettings {
  readonly down: string;
  readonly up: string;
}

/** A perfect network both ways: no emulated link of the session's own. */
export const NO_NETWORK: NetworkSettings = { down: "", up: "" };

/** Validates a (partial) network setting, filling gaps from `base`; each text must parse as link conditions. */
export function parseNetworkSettings(value: unknown, base: NetworkSettings = NO_NETWORK): NetworkSettings {
  const o = asObject(value, "settings.network");
  const spec = (way: "down" | "up"): string => {
    const text = o[way];
    if (text === undefined) return base[way];
    if (typeof text !== "string" || text.length > MAX_LINK_SPEC_CHARS) {
      throw new ProtocolError("bad_request", `settings.network.${way} must be a string of at most ${MAX_LINK_SPEC_CHARS} characters`);
    }
    try {
      const conditions = parseLinkConditions(text);
      return conditions === undefined ? "" : formatLinkConditions(conditions);
    } catch (err) {
      throw new ProtocolError("bad_request", `settings.network.${way}: ${(err as Error).message}`);
    }
  };
  return { down: spec("down"), up: spec("up") };
}

/** What one session is: what its generator draws (sizes in px, speed in px/s, colours as `#rrggbb`) and its network. */
export interface SessionSettings {
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly radius: number;
  readonly speed: number;
  readonly ballColor: string;
  readonly backgroundColor: string;
  /** Fixed at the start (not live): a session's samples and bitrate then belong to one scene. */
  readonly scene: Scene;
  /** The viewer's emulated link, live: media and signaling apply it to this session's packets. */
  readonly network: NetworkSettings;
}

/** The settings a session gets for every field the viewer leaves out. */
export const DEFAULT_SETTINGS: SessionSettings = {
  fps: 30,
  width: 640,
  height: 480,
  radius: 24,
  speed: 320,
  ballColor: "#ff5a1f",
  backgroundColor: "#10141c",
  scene: "flat",
  network: NO_NETWORK,
};

/** Allowed ranges of the numeric settings. */
export const SETTINGS_LIMITS = {
  fps: [1, 120],
  width: [64, 1920],
  height: [64, 1080],
  radius: [2, 200],
  speed: [0, 5000],
} as const;

/** Settings that must be integers (frames per second and pixel sizes); the others may be fractional. */
const INTEGER_SETTINGS: ReadonlySet<keyof typeof SETTINGS_LIMITS> = new Set(["fps", "width", "height"]);

/** `o[key]` checked against {@link SETTINGS_LIMITS}, or undefined when absent; errors name it `what`. */
function settingNumber(o: Record<string, unknown>, key: keyof typeof SETTINGS_LIMITS, what: string): number | undefined {
  const [min, max] = SETTINGS_LIMITS[key];
  return optionalNumber(o[key], what, min, max, INTEGER_SETTINGS.has(key));
}

/** Validates a scene name. */
export function parseScene(value: unknown): Scene {
  if (!SCENES.includes(value as Scene)) throw new ProtocolError("bad_request", `settings.scene must be one of ${SCENES.join(", ")}, not ${describeInput(value)}`);
  return value as Scene;
}

/** Validates a (partial) settings object from an untrusted source, filling gaps from `base`. */
export function parseSettings(value: unknown, base: SessionSettings = DEFAULT_SETTINGS): SessionSettings {
  const o = value === undefined ? {} : asObject(value, "settings");
  const num = (k: keyof typeof SETTINGS_LIMITS) => settingNumber(o, k, `settings.${k}`) ?? base[k];
  const s: SessionSettings = {
    fps: num("fps"),
    width: num("width"),
    height: num("height"),
    radius: num("radius"),
    speed: num("speed"),
    ballColor: o.ballColor === undefined ? base.ballColor : asString(o.ballColor, "settings.ballColor", 7, COLOR_PATTERN),
    backgroundColor:
      o.backgroundColor === undefined ? base.backgroundColor : asString(o.backgroundColor, "settings.backgroundColor", 7, COLOR_PATTERN),
    scene: o.scene === undefined ? base.scene : parseScene(o.scene),
    network: o.network === undefined ? base.network : parseNetworkSettings(o.network, base.network),
  };
  if (s.width % 2 || s.height % 2) throw new ProtocolError("bad_request", "settings.width and height must be even");
  if (2 * s.radius >= Math.min(s.width, s.height)) throw new ProtocolError("bad_request", "settings.radius does not fit the frame");
  return s;
}

/**
 * Where a session continues when another generator takes it over (its own died): the ball's state at one instant
 * (the last truth signaling had) and the next frame id, so the truth after the takeover is where the ball would have
 * been and frame ids do not repeat.
 */
export interface SessionResume {
  readonly ball: BallState;
  readonly nextFrameId: number;
}

/** Generator start request (subject `generatorStart`); `resume` for a takeover; `channel` for a channel's source (see {@link Claim}). */
export interface StartSessionRequest {
  readonly sessionId: string;
  readonly settings: SessionSettings;
  readonly resume?: SessionResume;
  readonly channel?: true;
}

/** Validates a {@link SessionResume} of a session with `settings` (the ball's box is the frame's). */
export function parseSessionResume(value: unknown, settings: SessionSettings): SessionResume {
  const o = asObject(value, "resume");
  const b = asObject(o.ball, "resume.ball");
  const big = 1e15;
  const ball: BallState = {
    x: asNumber(b.x, "resume.ball.x", 0, settings.width),
    y: asNumber(b.y, "resume.ball.y", 0, settings.height),
    vx: asNumber(b.vx, "resume.ball.vx", -1e4, 1e4),
    vy: asNumber(b.vy, "resume.ball.vy", -1e4, 1e4),
    timeMs: asNumber(b.timeMs, "resume.ball.timeMs", 0, big),
    width: settings.width,
    height: settings.height,
    radius: settings.radius,
  };
  return { ball, nextFrameId: asNumber(o.nextFrameId, "resume.nextFrameId", 0, 2 ** 32 - 1, true) };
}

/** Validates a {@link StartSessionRequest}. */
export function parseStartSessionRequest(value: unknown): StartSessionRequest {
  const o = asObject(value, "start request");
  const settings = parseSettings(o.settings);
  return {
    sessionId: parseSessionId(o.sessionId),
    settings,
    ...(o.resume === undefined ? {} : { resume: parseSessionResume(o.resume, settings) }),
    ...(o.channel === true ? { channel: true as const } : {}),
  };
}

/** The settings a viewer may change while the session runs; every other setting is fixed at the start. */
export const LIVE_SETTINGS = ["fps", "speed", "network"] as const satisfies readonly (keyof SessionSettings)[];

/** One of the {@link LIVE_SETTINGS}. */
export type LiveSetting = (typeof LIVE_SETTINGS)[number];

/** A live change: some of the {@link LIVE_SETTINGS}; absent ones stay as they are. */
export type SessionUpdate = { readonly [K in LiveSetting]?: SessionSettings[K] };

/** Validates the {@link LIVE_SETTINGS} of an object (other fields are ignored); absent ones stay absent. */
export function parseSessionUpdate(o: Record<string, unknown>): SessionUpdate {
  const fps = settingNumber(o, "fps", "fps");
  const speed = settingNumber(o, "speed", "speed");
  return {
    ...(fps === undefined ? {} : { fps }),
    ...(speed === undefined ? {} : { speed }),
    ...(o.network === undefined ? {} : { network: parseNetworkSettings(o.network) }),
  };
}

/** The settings after a (validated) live change: the update's fields replace those of `settings`. */
export function applyUpdate(settings: SessionSettings, update: SessionUpdate): SessionSettings {
  return { ...settings, fps: update.fps ?? settings.fps, speed: update.speed ?? settings.speed, network: update.network ?? settings.network };
}

/**
 * A live change as one message: what the page sends on its control stream, what signaling relays unchanged to
 * the generator (subject `sessionControl`) and what the generator posts to the session's worker.
 */
export type ControlMessage = { readonly type: "control" } & SessionUpdate;

/** A request on a running session's control subject: a live change, or stop. */
export type SessionControl = ControlMessage | { readonly type: "stop" };

/** Validates a {@link SessionControl}. */
export function parseSessionControl(value: unknown): SessionControl {
  const o = asObject(value, "control");
  if (o.type === "stop") return { type: "stop" };
  if (o.type !== "control") throw new ProtocolError("bad_request", 'control.type must be "control" or "stop"');
  return { type: "control", ...parseSessionUpdate(o) };
}

/** SDP offer relayed from a browser to a media replica (subject `mediaOffer`); the frames tell media the rest. */
export interface MediaOfferRequest {
  readonly sessionId: string;
  /** The page's WebRTC offer; absent when the page takes the video over WebTransport only (no peer connection). */
  readonly sdp?: string;
  /** The session's network from the first packet on (absent: none); later changes come on subject `network`. */
  readonly network?: NetworkSettings;
  /** A viewer of a channel: the session id of the channel's source, whose access units (`video`) it is sent; no encoder of its own. */
  readonly channel?: string;
  /** A channel's source: an access-units-only session (no `sdp`) whose keyframes are coalesced for the channel ({@link Claim}). */
  readonly channelSource?: true;
}

/** Validates a {@link MediaOfferRequest}. */
export function parseMediaOfferRequest(value: unknown): MediaOfferRequest {
  const o = asObject(value, "offer request");
  return {
    sessionId: parseSessionId(o.sessionId),
    ...optionalSdp(o.sdp),
    ...(o.network === undefined ? {} : { network: parseNetworkSettings(o.network) }),
    ...(o.channel === undefined ? {} : { channel: parseSessionId(o.channel) }),
    ...(o.channelSource === true ? { channelSource: true as const } : {}),
  };
}

/** Validates a {@link MediaOfferRequest}'s combination: a source has no offer and watches no channel; a viewer has an offer. */
export function checkChannelRoles(request: MediaOfferRequest): void {
  if (request.channelSource && (request.sdp !== undefined || request.channel !== undefined)) throw new ProtocolError("bad_request", "a channel source has no offer and no channel");
  if (request.channel !== undefined && request.sdp === undefined) throw new ProtocolError("bad_request", "a channel viewer needs an SDP offer");
  if (request.channel === request.sessionId) throw new ProtocolError("bad_request", "a channel viewer's session cannot be the channel's");
}

/**
 * A channel source's claim (subject `claim`), every {@link SESSION_TIMING}.claimIntervalMs: one generator session and
 * one media encoder per channel, whichever replica started them. Two started at once (two first viewers on two
 * signaling replicas) hear each other, and the younger stops ({@link yieldsTo}).
 */
export interface Claim {
  /** The claiming service replica's instance id. */
  readonly instance: string;
  /** When the claimant started (epoch ms). */
  readonly sinceMs: number;
}

/** Validates a {@link Claim}. */
export function parseClaim(value: unknown): Claim {
  const o = asObject(value, "claim");
  return { instance: asString(o.instance, "claim.instance", 64, INSTANCE_PATTERN), sinceMs: asNumber(o.sinceMs, "claim.sinceMs", 0, 1e15) };
}

/** Whether claimant `mine` gives way to `theirs`: the older one stays (the earlier start; on a tie the smaller instance id). */
export function yieldsTo(mine: Claim, theirs: Claim): boolean {
  if (theirs.instance === mine.instance) return false;
  return theirs.sinceMs < mine.sinceMs || (theirs.sinceMs === mine.sinceMs && theirs.instance < mine.instance);
}

/** The media replica's answer. */
export interface MediaOfferAnswer {
  /** The SDP answer; absent when the request had no offer. */
  readonly sdp?: string;
  /** The answering media replica's instance id: its liveness is `subjects.mediaAlive(instance)` (absent: not watched). */
  readonly instance?: string;
}

/** A media replica's instance id: a NATS token of 1–64 URL-safe characters. */
const INSTANCE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Validates a {@link MediaOfferAnswer}. */
export function parseMediaOfferAnswer(value: unknown): MediaOfferAnswer {
  const o = asObject(value, "answer");
  return { ...optionalSdp(o.sdp), ...(o.instance === undefined ? {} : { instance: asString(o.instance, "answer.instance", 64, INSTANCE_PATTERN) }) };
}

/** Media → signaling (subject `mediaAlive`), every {@link SESSION_TIMING}.mediaAliveIntervalMs; `leaving` once as the replica stops. */
export interface MediaAlive {
  readonly leaving: boolean;
}

/** Validates a {@link MediaAlive}. */
export function parseMediaAlive(value: unknown): MediaAlive {
  const o = asObject(value, "mediaAlive");
  if (typeof o.leaving !== "boolean") throw new ProtocolError("bad_request", "mediaAlive.leaving must be a boolean");
  return { leaving: o.leaving };
}

/** `{ sdp }` when `value` is given (and a valid SDP text), `{}` when it is absent. */
function optionalSdp(value: unknown): { sdp?: string } {
  return value === undefined ? {} : { sdp: asString(value, "sdp", MAX_SDP_LENGTH) };
}

/** Signaling → media (subject `videoWanted`): keep publishing the session's access units; `keyframe`: start with one now. */
export interface VideoWanted {
  readonly keyframe: boolean;
}

/** Validates a {@link VideoWanted}. */
export function parseVideoWanted(value: unknown): VideoWanted {
  return { keyframe: asObject(value, "video wanted").keyframe === true };
}

/** Signaling's word that a session is over (subject `ended`). */
export interface SessionEnded {
  readonly reason: string;
}

/** Signaling → signaling (subject `resumed`): the viewer session that now owns the session. */
export interface SessionResumed {
  readonly by: string;
}

/** Validates a {@link SessionResumed}. */
export function parseSessionResumed(value: unknown): SessionResumed {
  return { by: asString(asObject(value, "resumed").by, "resumed.by", 128) };
}

/** Validates a {@link SessionEnded}. */
export function parseSessionEnded(value: unknown): SessionEnded {
  return { reason: asString(asObject(value, "ended").reason, "reason", 500) };
}

/** Something a back-end service wants the viewer to know (subject `events`). `fatal` ends the session. */
export interface SessionEvent {
  readonly source: "generator" | "media";
  readonly message: string;
  readonly fatal: boolean;
}

/** Validates a {@link SessionEvent}. */
export function parseSessionEvent(value: unknown): SessionEvent {
  const o = asObject(value, "event");
  if (o.source !== "generator" && o.source !== "media") throw new ProtocolError("bad_request", "event.source is unknown");
  if (typeof o.fatal !== "boolean") throw new ProtocolError("bad_request", "event.fatal must be a boolean");
  return { source: o.source, message: asString(o.message, "event.message", 1000), fatal: o.fatal };
}

/** The envelope of every request/reply answer on the bus. */
export type Reply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } };

/** Timing of the session protocol, shared by the services that must agree on it. */
export const SESSION_TIMING = {
  /** Signaling publishes a heartbeat this often while the viewer is connected. */
  heartbeatIntervalMs: 1000,
  /** Generator and media end a session that had no heartbeat for this long (default; configurable). */
  heartbeatTimeoutMs: 5000,
  /** How long signaling waits for a generator or media reply. */
  requestTimeoutMs: 5000,
  /** Each media replica says it is alive this often (subject `mediaAlive`), so signaling sees one die within a second. */
  mediaAliveIntervalMs: 250,
  /** A channel's generator session and encoder each repeat their {@link Claim} this often. */
  claimIntervalMs: 500,
} as const;
