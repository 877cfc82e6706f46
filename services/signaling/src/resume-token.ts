/**
 * Session resumption tokens: what lets another signaling replica (or this one after a lost connection) take over
 * a page's session while its media peer connection and generator go on. A token names the session's media replica
 * (so the new signaling watches the right one) and is an HMAC-SHA256 over session id and replica under a secret
 * every signaling replica shares (`SESSION_RESUME_SECRET`); without the secret nobody can adopt another's session.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Issues and checks resumption tokens under one secret. */
export class ResumeTokens {
  readonly #secret: Buffer;

  /** `secret`: the replicas' shared secret (at least 16 bytes); a random one when absent (this process only). */
  constructor(secret?: string) {
    if (secret !== undefined && Buffer.byteLength(secret) < 16) throw new Error("SESSION_RESUME_SECRET must be at least 16 bytes");
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  /** The token of `sessionId` served by media replica `media` (none: not watched). */
  issue(sessionId: string, media: string | undefined): string {
    return `${media ?? ""}.${this.#mac(sessionId, media ?? "")}`;
  }

  /** The media replica a valid token names ("" none), or null when the token is not this session's. */
  check(sessionId: string, token: string): { media: string | undefined } | null {
    const dot = token.indexOf(".");
    if (dot < 0) return null;
    const media = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.#mac(sessionId, media));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { media: media === "" ? undefined : media };
  }

  #mac(sessionId: string, media: string): string {
    return createHmac("sha256", this.#secret).update(`resume:${sessionId}:${media}`).digest("base64url");
  }
}
