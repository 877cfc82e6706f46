/**
 * The browser ↔ signaling protocol over WebTransport.
 *
 * - Control: one bidirectional stream opened by the page. Each message is a 4-byte big-endian length followed by
 *   that many bytes of UTF-8 JSON ({@link ClientMessage} up, {@link ServerMessage} down), at most
 *   {@link MAX_CONTROL_MESSAGE_BYTES}.
 * - Coordinates: one datagram per decoded frame, sent as soon as the page has detected the ball in it, before the
 *   frame is on screen ({@link Coordinates}, 28 bytes); latest wins, a lost one is not retried. Signaling answers
 *   each with an {@link ErrorReport} datagram (64 bytes) on the session's own connection. The page's detection
 *   worker may send them on a connection of its own, bound to the session by an `attach` (no main-thread hop).
 * - The session ends with a WebTransport close code from {@link CLOSE_CODES} and a readable reason.
 */
import { ProtocolError, capText } from "./errors.ts";
import { decodeJson, encodeJson } from "./json-codec.ts";
import { MAX_SDP_LENGTH, type SessionControl, type SessionSettings, parseSessionControl, parseSessionId, parseSettings } from "./messages.ts";
import { asNumber, asObject, asString, describeInput } from "./validate.ts";

/** The WebTransport endpoint's path. */
export const WT_PATH = "/wt";
/** Largest control message, either way. */
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;
/** Longest `message` text of a server `error` or `event` the page accepts ({@link parseServerMessage}). */
export const MAX_SERVER_TEXT_CHARS = 1000;

/** Longest resumption token, and its characters (URL-safe base64, with `.` between its parts). */
export const MAX_RESUME_TOKEN_CHARS = 256;
const RESUME_TOKEN_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Channel names (`?channel=NAME`): 1–32 URL-safe characters, so a name is its own URL and log token. */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Validates a channel name. */
export function parseChannelName(value: unknown): string {
  return asString(value, "channel", 32, CHANNEL_NAME_PATTERN);
}

/** What the page says of a channel it joins: the name, and the owner token if it has one (it may change the settings). */
export interface ChannelJoin {
  readonly channel?: string;
  readonly ownerToken?: string;
}

/** The channel of a `session` message: its name, whether this viewer owns it, and the owner token (to the owner only). */
export interface ChannelInfo {
  readonly name: string;
  readonly owner: boolean;
  readonly ownerToken?: string;
}

/** A resumption or owner token, as the server gives them. */
function parseToken(value: unknown, name: string): string {
  return asString(value, name, MAX_RESUME_TOKEN_CHARS, RESUME_TOKEN_PATTERN);
}

/** `{channel, ownerToken}` of a client message, each when present (an owner token without a channel is refused). */
function channelJoinOf(o: Record<string, unknown>): ChannelJoin {
  if (o.channel === undefined) {
    if (o.ownerToken !== undefined) throw new ProtocolError("bad_request", "an ownerToken needs a channel");
    return {};
  }
  return { channel: parseChannelName(o.channel), ...(o.ownerToken === undefined ? {} : { ownerToken: parseToken(o.ownerToken, "ownerToken") }) };
}

/** Validates a {@link ChannelInfo}. */
function parseChannelInfo(value: unknown): ChannelInfo {
  const o = asObject(value, "channel");
  if (typeof o.owner !== "boolean") throw new ProtocolError("bad_request", "channel.owner must be a boolean");
  const token = o.ownerToken === undefined ? {} : { ownerToken: parseToken(o.ownerToken, "ownerToken") };
  return { name: parseChannelName(o.name), owner: o.owner, ...token };
}

/** WebTransport session close codes (application codes, 32 bit). */
export const CLOSE_CODES = {
  normal: 0,
  serverShutdown: 1,
  protocolError: 2,
  backendError: 3,
  limitExceeded: 4,
  idleTimeout: 5,
  /** A back end was not there or did not answer in time (no replica, a timeout): the same request may work soon. */
  unavailable: 6,
  /** Page → server: this connection is given up, the page resumes its session on a new one (do not release it). */
  resuming: 7,
} as const;

/**
 * Page → signaling on the control stream: the offer, then live changes and stop as the generator takes them (and
 * a new offer, for the same session, each time signaling asks to `renegotiate`). The
 * offer names the video paths: `sdp` (a WebRTC offer) and/or `wtVideo` (the encoded frames on WebTransport
 * unidirectional streams, see video-unit.ts); at least one. With `channel` the page watches that broadcast channel
 * instead of a session of its own (the channel's settings are its owner's to change: the first viewer's, or the
 * holder of `ownerToken`).
 */
export type ClientMessage =
  | ({ readonly type: "offer"; readonly sdp?: string; readonly wtVideo?: boolean; readonly settings?: Partial<SessionSettings> } & ChannelJoin)
  /**
   * Instead of an offer, on a new connection: take over this session (its signaling is gone; its media peer
   * connection and generator go on) with the token the `session` message gave.
   */
  | ({ readonly type: "resume"; readonly sessionId: string; readonly token: string; readonly wtVideo?: boolean } & ChannelJoin)
  /**
   * Instead of an offer, on a connection of the page's detection worker: this connection's datagrams are the
   * coordinates of this running session (the token its `session` message gave); the reports stay on the session's.
   */
  | { readonly type: "attach"; readonly sessionId: string; readonly token: string }
  | SessionControl;

/** Signaling → page on the control stream. */
export type ServerMessage =
  /**
   * The session is on (after an offer or a resume); `resumeToken` lets another signaling replica take it over;
   * `channel` when it watches one (the channel's settings then come as `settings` whenever its owner changes them).
   */
  | { readonly type: "session"; readonly sessionId: string; readonly settings: SessionSettings; readonly resumeToken?: string; readonly channel?: ChannelInfo }
  | { readonly type: "answer"; readonly sdp: string }
  | { readonly type: "settings"; readonly settings: SessionSettings }
  | { readonly type: "event"; readonly source: "generator" | "media" | "signaling"; readonly message: string; readonly fatal: boolean }
  /** The media replica of this session's video is gone or leaving: the page sends a new `offer` on this stream (same session). */
  | { readonly type: "renegotiate"; readonly reason: string }
  /** The `attach` is taken: this connection's datagrams count as the session's coordinates from now on. */
  | { readonly type: "attached"; readonly sessionId: string }
  | { readonly type: "error"; readonly code: string; readonly message: string };

/** Validates a {@link ClientMessage} (settings are checked in full by the session that applies them). */
export function parseClientMessage(value: unknown): ClientMessage {
  const o = asObject(value, "message");
  switch (o.type) {
    case "offer": {
      const settings = o.settings === undefined ? undefined : parseSettings(o.settings);
      const wtVideo = o.wtVideo === true;
      if (o.sdp === undefined && !wtVideo) throw new ProtocolError("bad_request", "the offer names no video path (sdp or wtVideo)");
      const sdp = o.sdp === undefined ? {} : { sdp: asString(o.sdp, "sdp", MAX_SDP_LENGTH) };
      return { type: "offer", ...sdp, ...(wtVideo ? { wtVideo } : {}), ...(settings ? { settings } : {}), ...channelJoinOf(o) };
    }
    case "resume":
      return {
        type: "resume",
        sessionId: parseSessionId(o.sessionId),
        token: parseToken(o.token, "token"),
        ...(o.wtVideo === true ? { wtVideo: true } : {}),
        ...channelJoinOf(o),
      };
    case "attach":
      return { type: "attach", sessionId: parseSessionId(o.sessionId), token: parseToken(o.token, "token") };
    case "control":
    case "stop":
      return parseSessionControl(o);
    default:
      throw new ProtocolError("bad_request", `unknown message type ${describeInput(o.type)}`);
  }
}

/** Validates a {@link ServerMessage} (the page trusts its server, but not blindly). */
export function parseServerMessage(value: unknown): ServerMessage {
  const o = asObject(value, "message");
  switch (o.type) {
    case "session": {
      const token = o.resumeToken === undefined ? {} : { resumeToken: parseToken(o.resumeToken, "resumeToken") };
      const channel = o.channel === undefined ? {} : { channel: parseChannelInfo(o.channel) };
      return { type: "session", sessionId: parseSessionId(o.sessionId), settings: parseSettings(o.settings), ...token, ...channel };
    }
    case "answer":
      return { type: "answer", sdp: asString(o.sdp, "sdp", MAX_SDP_LENGTH) };
    case "settings":
      return { type: "settings", settings: parseSettings(o.settings) };
    case "event": {
      if (o.source !== "generator" && o.source !== "media" && o.source !== "signaling") throw new ProtocolError("bad_request", "event.source");
      return { type: "event", source: o.source, message: asString(o.message, "message", MAX_SERVER_TEXT_CHARS), fatal: o.fatal === true };
    }
    case "renegotiate":
      return { type: "renegotiate", reason: asString(o.reason, "reason", MAX_SERVER_TEXT_CHARS) };
    case "attached":
      return { type: "attached", sessionId: parseSessionId(o.sessionId) };
    case "error":
      return { type: "error", code: asString(o.code, "code", 64), message: asString(o.message, "message", MAX_SERVER_TEXT_CHARS) };
    default:
      throw new ProtocolError("bad_request", `unknown message type ${describeInput(o.type)}`);
  }
}

/** One control message as bytes on the stream: length prefix + JSON. */
export function frameControlMessage(message: ClientMessage | ServerMessage): Uint8Array {
  const json = encodeJson(message);
  if (json.length > MAX_CONTROL_MESSAGE_BYTES) throw new ProtocolError("too_large", `control message of ${json.length} bytes`);
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  return out;
}

/**
 * A server message as bytes, never throwing: `error`/`event` texts are cut to what the page accepts, and a message
 * still too large for one frame is replaced by a generic `error internal`. The reply path must not fail on a reply.
 */
export function frameServerMessage(message: ServerMessage): Uint8Array {
  const capped = message.type === "error" || message.type === "event" ? { ...message, message: capText(message.message, MAX_SERVER_TEXT_CHARS) } : message;
  try {
    return frameControlMessage(capped);
  } catch {
    return frameControlMessage({ type: "error", code: "internal", message: `the server's ${message.type} message was too large to send` });
  }
}

/**
 * Reassembles length-prefixed JSON messages from stream chunks of any size. `push` returns the complete
 * messages (parsed JSON, not yet validated) and throws {@link ProtocolError} on an oversized or malformed one.
 */
export class ControlMessageReader {
  #buffer = new Uint8Array(0);

  push(chunk: Uint8Array): unknown[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    const messages: unknown[] = [];
    let offset = 0;
    while (joined.length - offset >= 4) {
      const length = new DataView(joined.buffer, offset, 4).getUint32(0);
      if (length > MAX_CONTROL_MESSAGE_BYTES) throw new ProtocolError("too_large", `control message of ${length} bytes exceeds ${MAX_CONTROL_MESSAGE_BYTES}`);
      if (joined.length - offset - 4 < length) break;
      messages.push(decodeJson(joined.subarray(offset + 4, offset + 4 + length), MAX_CONTROL_MESSAGE_BYTES));
      offset += 4 + length;
    }
    this.#buffer = joined.slice(offset);
    return messages;
  }

  /** Bytes received but not yet part of a complete message. */
  get buffered(): number {
    return this.#buffer.length;
  }
}

/** The video path a frame came by, when not WebRTC (in coordinates and error reports: flag bit 1, resp. 2). */
export type VideoPath = "webtransport";

/** The ball centre the page found in one decoded frame. Times in epoch ms (page: timeOrigin + now). */
export interface Coordinates {
  /** "webtransport" for a frame decoded from the WebTransport streams; absent for WebRTC. */
  readonly path?: VideoPath;
  /** RTP timestamp of the frame (requestVideoFrameCallback metadata), see `rtpTimestampFromCaptureTime`. */
  readonly rtpTimestamp: number;
  readonly found: boolean;
  readonly x: number;
  readonly y: number;
  /** Epoch ms when the decoded frame reached the page's detector. */
  readonly decodedAtMs: number;
  /** How long detection took on the page. */
  readonly detectMs: number;
}

const COORDINATES_TYPE = 1;
const ERROR_REPORT_TYPE = 2;
/** Size of a coordinates datagram. */
export const COORDINATES_BYTES = 28;
/** Size of an error report datagram. */
export const ERROR_REPORT_BYTES = 64;

/**
 * Encodes {@link Coordinates} as a 28-byte datagram, little-endian: type u8 (1), flags u8 (bit 0: found, bit 1: path webtransport), 2 bytes
 * zero, rtpTimestamp u32, x f32, y f32, decodedAtMs f64, detectMs f32.
 */
export function encodeCoordinates(c: Coordinates): Uint8Array {
  const out = new Uint8Array(COORDINATES_BYTES);
  const v = new DataView(out.buffer);
  v.setUint8(0, COORDINATES_TYPE);
  v.setUint8(1, (c.found ? 1 : 0) | (c.path === "webtransport" ? 2 : 0));
  v.setUint32(4, c.rtpTimestamp >>> 0, true);
  v.setFloat32(8, c.x, true);
  v.setFloat32(12, c.y, true);
  v.setFloat64(16, c.decodedAtMs, true);
  v.setFloat32(24, c.detectMs, true);
  return out;
}

function datagramView(data: Uint8Array, type: number, length: number, what: string): DataView {
  if (data.length !== length) throw new ProtocolError("bad_request", `${what} datagram must be ${length} bytes, got ${data.length}`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (v.getUint8(0) !== type) throw new ProtocolError("bad_request", `${what} datagram has type ${v.getUint8(0)}`);
  return v;
}

/** Decodes a coordinates datagram; throws {@link ProtocolError} on wrong size, type or non-finite values. */
export function decodeCoordinates(data: Uint8Array): Coordinates {
  const v = datagramView(data, COORDINATES_TYPE, COORDINATES_BYTES, "coordinates");
  const c: Coordinates = {
    rtpTimestamp: v.getUint32(4, true),
    found: (v.getUint8(1) & 1) === 1,
    x: v.getFloat32(8, true),
    y: v.getFloat32(12, true),
    decodedAtMs: v.getFloat64(16, true),
    detectMs: v.getFloat32(24, true),
    ...((v.getUint8(1) & 2) === 2 ? { path: "webtransport" as const } : {}),
  };
  asNumber(c.x, "x", -1e5, 1e5);
  asNumber(c.y, "y", -1e5, 1e5);
  asNumber(c.decodedAtMs, "decodedAtMs", 0, Number.MAX_SAFE_INTEGER);
  asNumber(c.detectMs, "detectMs", 0, 1e6);
  return c;
}

/** Signaling's verdict on one coordinates datagram. Errors in px, times in epoch ms. */
export interface ErrorReport {
  /** The path of the frame whose coordinates this answers (copied from them). */
  readonly path?: VideoPath;
  /** False when the frame was not in signaling's recent-truth ring: frame fields are then NaN. */
  readonly frameMatched: boolean;
  readonly found: boolean;
  readonly frameId: number;
  readonly rtpTimestamp: number;
  readonly detectedX: number;
  readonly detectedY: number;
  readonly frameTruthX: number;
  readonly frameTruthY: number;
  /** Where the ball really was when the coordinates arrived. */
  readonly nowTruthX: number;
  readonly nowTruthY: number;
  /** Headline figure: distance from the detected centre to where the ball is now. */
  readonly realtimeErrorPx: number;
  /** Distance from the detected centre to the truth of the very frame that was shown. */
  readonly frameErrorPx: number;
  /** Arrival at signaling minus the frame's capture time. */
  readonly latencyMs: number;
  readonly captureTimeMs: number;
  readonly arrivalMs: number;
}

/** Encodes an {@link ErrorReport} as a 64-byte datagram (flags: bit 0 frame matched, bit 1 found, bit 2 path webtransport). */
export function encodeErrorReport(r: ErrorReport): Uint8Array {
  const out = new Uint8Array(ERROR_REPORT_BYTES);
  const v = new DataView(out.buffer);
  v.setUint8(0, ERROR_REPORT_TYPE);
  v.setUint8(1, (r.frameMatched ? 1 : 0) | (r.found ? 2 : 0) | (r.path === "webtransport" ? 4 : 0));
  v.setUint32(4, r.frameId >>> 0, true);
  v.setUint32(8, r.rtpTimestamp >>> 0, true);
  const f32 = [r.detectedX, r.detectedY, r.frameTruthX, r.frameTruthY, r.nowTruthX, r.nowTruthY, r.realtimeErrorPx, r.frameErrorPx, r.latencyMs];
  f32.forEach((x, i) => v.setFloat32(12 + 4 * i, x, true));
  v.setFloat64(48, r.captureTimeMs, true);
  v.setFloat64(56, r.arrivalMs, true);
  return out;
}

/** Decodes an error report datagram; throws {@link ProtocolError} on wrong size or type. */
export function decodeErrorReport(data: Uint8Array): ErrorReport {
  const v = datagramView(data, ERROR_REPORT_TYPE, ERROR_REPORT_BYTES, "error report");
  const f = (i: number) => v.getFloat32(12 + 4 * i, true);
  return {
    frameMatched: (v.getUint8(1) & 1) === 1,
    found: (v.getUint8(1) & 2) === 2,
    frameId: v.getUint32(4, true),
    rtpTimestamp: v.getUint32(8, true),
    detectedX: f(0),
    detectedY: f(1),
    frameTruthX: f(2),
    frameTruthY: f(3),
    nowTruthX: f(4),
    nowTruthY: f(5),
    realtimeErrorPx: f(6),
    frameErrorPx: f(7),
    latencyMs: f(8),
    captureTimeMs: v.getFloat64(48, true),
    arrivalMs: v.getFloat64(56, true),
    ...((v.getUint8(1) & 4) === 4 ? { path: "webtransport" as const } : {}),
  };
}

/** What the page fetches from signaling's `GET /config.json` before it connects. */
export interface ClientConfig {
  /** UDP port of the WebTransport endpoint; the page connects to `https://<its own hostname>:<wtPort><wtPath>`. */
  readonly wtPort: number;
  readonly wtPath: string;
  /** Base64 SHA-256 of the server certificate(s) for `serverCertificateHashes`; empty with a CA-signed certificate. */
  readonly certificateHashes: readonly string[];
  readonly defaults: SessionSettings;
}
