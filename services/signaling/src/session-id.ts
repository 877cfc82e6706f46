/** Unguessable session ids: 128 random bits as 22 URL-safe base64 characters (see `SESSION_ID_PATTERN`). */

/** A fresh session id from 16 cryptographically random bytes, base64url without padding. */
export function newSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
}
