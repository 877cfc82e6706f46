/** Machine-readable error codes that cross process boundaries (bus replies, WebTransport messages). */
export type ErrorCode =
  | "bad_request"
  | "too_large"
  | "unknown_session"
  | "timeout"
  | "unavailable"
  | "unsupported"
  | "forbidden"
  | "internal";

/**
 * Longest {@link ProtocolError} message: the page accepts error texts of up to 1000 characters, and a message that
 * quotes client input must never grow with it (a 65,500-character echo once overflowed the 64 KiB control frame).
 */
export const MAX_ERROR_MESSAGE_CHARS = 500;

/** `text` cut to at most `max` characters (the last one an ellipsis when cut), so quoted input stays bounded. */
export function capText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A protocol-level failure with a code that can be sent to the other side as is; its message is capped. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(capText(message, MAX_ERROR_MESSAGE_CHARS));
  }
}
