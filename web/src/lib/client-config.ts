/** Validation of the server's `GET /config.json` answer (shared `ClientConfig`). */
import { parseSettings } from "@ballstream/shared/messages";
import { asNumber, asObject, asString } from "@ballstream/shared/validate";
import type { ClientConfig } from "@ballstream/shared/wt-protocol";

/** Validates a {@link ClientConfig}; throws ProtocolError naming the bad field. */
export function parseClientConfig(value: unknown): ClientConfig {
  const o = asObject(value, "config");
  const hashes = o.certificateHashes ?? [];
  if (!Array.isArray(hashes)) throw new TypeError("config.certificateHashes must be an array");
  return {
    wtPort: asNumber(o.wtPort, "config.wtPort", 1, 65535, true),
    wtPath: asString(o.wtPath, "config.wtPath", 256, /^\//),
    certificateHashes: hashes.map((h, i) => asString(h, `config.certificateHashes[${i}]`, 128, /^[A-Za-z0-9+/]+=*$/)),
    defaults: parseSettings(o.defaults),
  };
}
