/** JSON for the small control messages (never for frames). */
import { ProtocolError } from "./errors.ts";

/** Largest JSON control message accepted anywhere (SDP offers included). */
export const MAX_JSON_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 JSON bytes of `value`. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Parses UTF-8 JSON; throws {@link ProtocolError} on oversized, non-UTF-8 or malformed input. */
export function decodeJson(data: Uint8Array, maxBytes = MAX_JSON_BYTES): unknown {
  if (data.length > maxBytes) throw new ProtocolError("too_large", `message of ${data.length} bytes exceeds ${maxBytes}`);
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    throw new ProtocolError("bad_request", "message is not valid UTF-8 JSON");
  }
}
