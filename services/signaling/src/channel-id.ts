/** A channel's source session id from its name: the same on every signaling replica, and never a random session's. */
import { createHash } from "node:crypto";
import { SESSION_ID_LENGTH } from "@ballstream/protocol";

/** The session id of channel `name`'s generator session and encoder: SHA-256 of the name, as a session id (22 base64url characters). */
export function channelSessionId(name: string): string {
  return createHash("sha256").update(`ballstream-channel:${name}`).digest("base64url").slice(0, SESSION_ID_LENGTH);
}
