/** The server's `GET /config.json` answer (shared `ClientConfig`): fetched and validated. */
import { parseSettings, asNumber, asObject, asString } from "@ballstream/protocol";
import type { ClientConfig } from "@ballstream/protocol";
import { describeConfigFailure, errorText } from "./failures.ts";

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

/** How long `/config.json` may take: a server that accepts and never answers (frozen, overloaded) must not hang the page. */
export const CONFIG_TIMEOUT_MS = 5000;

/** Fetches and validates `/config.json`; throws an Error with the readable message for each way it fails. */
export async function loadClientConfig(
  fetchConfig: () => Promise<Response> = () => fetch("/config.json", { cache: "no-store", signal: AbortSignal.timeout(CONFIG_TIMEOUT_MS) }),
): Promise<ClientConfig> {
  let response: Response;
  try {
    response = await fetchConfig();
  } catch (e) {
    throw new Error(describeConfigFailure(e));
  }
  if (!response.ok) throw new Error(describeConfigFailure(undefined, response.status));
  try {
    return parseClientConfig(await response.json());
  } catch (e) {
    throw new Error(`The server's /config.json is invalid: ${errorText(e)}`);
  }
}
