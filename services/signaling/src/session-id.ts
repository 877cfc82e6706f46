/** Unguessable session ids: `SESSION_ID_BYTES` random bytes as `SESSION_ID_LENGTH` URL-safe base64 characters. */
import { SESSION_ID_BYTES } from "@ballstream/protocol";

/** A fresh session id from `SESSION_ID_BYTES` (16) cryptographically random bytes, base64url without padding. */
export function newSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES))).toString("base64url");
}
