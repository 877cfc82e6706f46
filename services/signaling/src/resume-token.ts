/**
 * Session resumption tokens: what lets another signaling replica (or this one after a lost connection) take over
 * a page's session while its media peer connection and generator go on. A token names the session's media replica
 * (so the new signaling watches the right one) and is an HMAC-SHA256 over session id and replica under a secret
 * every signaling replica shares (`SESSION_RESUME_SECRET`); without the secret nobody can adopt another's session.
 * A channel viewer's token names its channel too. The same secret makes a channel's owner token (an HMAC of the
 * channel's source id), so any replica knows the owner.
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

  /** The token of `sessionId` served by media replica `media` (none: not watched), watching `channel` if any. */
  issue(sessionId: string, media: string | undefined, channel = ""): string {
    return `${media ?? ""}.${this.#mac(`resume:${sessionId}:${media ?? ""}:${channel}`)}`;
  }

  /** The media replica a valid token names ("" none), or null when the token is not this session's (and channel's). */
  check(sessionId: string, token: string, channel = ""): { media: string | undefined } | null {
    const dot = token.indexOf(".");
    if (dot < 0) return null;
    const media = token.slice(0, dot);
    if (!equal(token.slice(dot + 1), this.#mac(`resume:${sessionId}:${media}:${channel}`))) return null;
    return { media: media === "" ? undefined : media };
  }

  /** The owner token of the channel whose source is `source`: who holds it may change the channel's settings. */
  ownerToken(source: string): string {
    return this.#mac(`owner:${source}`);
  }

  /** Whether `token` is the owner token of `source`'s channel. */
  isOwner(source: string, token: string | undefined): boolean {
    return token !== undefined && equal(token, this.ownerToken(source));
  }

  #mac(text: string): string {
    return createHmac("sha256", this.#secret).update(text).digest("base64url");
  }
}

/** Constant-time comparison of two tokens. */
function equal(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
