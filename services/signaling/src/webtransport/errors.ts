/**
 * Typed errors and error codes: HTTP/3 (RFC 9114), QPACK (RFC 9204), HTTP datagrams (RFC 9297) and WebTransport
 * over HTTP/3, plus the mapping of 32-bit WebTransport application codes into the HTTP/3 error space.
 */

/** HTTP/3, QPACK and WebTransport error codes used on connection close and stream reset. */
export const H3_ERROR = {
  noError: 0x100,
  generalProtocolError: 0x101,
  internalError: 0x102,
  streamCreationError: 0x103,
  closedCriticalStream: 0x104,
  frameUnexpected: 0x105,
  frameError: 0x106,
  excessiveLoad: 0x107,
  idError: 0x108,
  settingsError: 0x109,
  missingSettings: 0x10a,
  requestRejected: 0x10b,
  requestCancelled: 0x10c,
  requestIncomplete: 0x10d,
  messageError: 0x10e,
  connectError: 0x10f,
  qpackDecompressionFailed: 0x200,
  qpackEncoderStreamError: 0x201,
  qpackDecoderStreamError: 0x202,
  datagramError: 0x33,
  /** WebTransport: a stream arrived for a session that is gone. */
  wtSessionGone: 0x170d7b68,
  /** WebTransport: a stream was refused because the session is not (yet) accepted. */
  wtBufferedStreamRejected: 0x3994bd84,
} as const;

/** Where a codec failure is contained: the whole connection, one session, or one stream. */
export type ErrorScope = "connection" | "session" | "stream";

/** A protocol violation by the peer (or a limit it crossed), carrying the HTTP/3 code to close or reset with. */
export class Http3Error extends Error {
  override readonly name = "Http3Error";
  constructor(
    /** The HTTP/3 error code (see {@link H3_ERROR}). */
    readonly code: number,
    message: string,
    /** What to close because of it. */
    readonly scope: ErrorScope = "connection",
  ) {
    super(message);
  }
}

/** Mirrors the W3C `WebTransportError`: a stream reset/stopped by the peer, or a session that ended. */
export class WebTransportError extends Error {
  override readonly name = "WebTransportError";
  constructor(
    message: string,
    readonly source: "stream" | "session",
    /** The peer's 32-bit application code for stream errors; null when it was not a WebTransport code. */
    readonly streamErrorCode: number | null = null,
  ) {
    super(message);
  }
}

const FIRST_WT_APP_CODE = 0x52e4a40fa8db;
const LAST_WT_APP_CODE = 0x52e5ac983162;
const MAX_WT_APP_CODE = 0xffffffff;

/** Maps a 32-bit WebTransport application error code to its HTTP/3 error code (skipping GREASE code points). */
export function webTransportCodeToHttp3(code: number): number {
  if (!Number.isInteger(code) || code < 0 || code > MAX_WT_APP_CODE) {
    throw new RangeError(`WebTransport error code must be a 32-bit unsigned integer, got ${code}`);
  }
  return FIRST_WT_APP_CODE + code + Math.floor(code / 0x1e);
}

/** Maps an HTTP/3 error code back to the WebTransport application code; null when outside the range or GREASE. */
export function http3CodeToWebTransport(h3Code: number): number | null {
  if (!Number.isSafeInteger(h3Code) || h3Code < FIRST_WT_APP_CODE || h3Code > LAST_WT_APP_CODE) return null;
  if ((h3Code - 0x21) % 0x1f === 0) return null;
  const shifted = h3Code - FIRST_WT_APP_CODE;
  return shifted - Math.floor(shifted / 0x1f);
}
