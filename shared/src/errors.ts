/** Machine-readable error codes that cross process boundaries (bus replies, WebTransport messages). */
export type ErrorCode =
  | "bad_request"
  | "too_large"
  | "unknown_session"
  | "timeout"
  | "unavailable"
  | "unsupported"
  | "internal";

/** A protocol-level failure with a code that can be sent to the other side as is. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
