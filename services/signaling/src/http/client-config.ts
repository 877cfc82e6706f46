/** `GET /config.json`: what the page needs to open its WebTransport session. */
import type { ClientConfig } from "@ballstream/protocol";
import { type Handler, get, json } from "./router.ts";

/** Serves the page's {@link ClientConfig} (read on every request: the certificate may be replaced). */
export function clientConfig(config: () => ClientConfig): Handler {
  return get("/config.json", () => json(config()));
}
