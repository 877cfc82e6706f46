/** The extended CONNECT of WebTransport (RFC 9220, draft-02 as Chromium sends it): decoded fields → request. */
import type { ConnectRequest } from "./h3-events.ts";
import type { HeaderField } from "./qpack.ts";

/**
 * Reads a WebTransport CONNECT from its decoded fields; a string says why it is not one (answered 400): duplicate
 * pseudo-headers, another method or protocol, no https scheme, no authority, or a path not starting with "/".
 */
export function parseConnectRequest(fields: readonly HeaderField[]): ConnectRequest | string {
  const pseudo = fields.filter(([name]) => name.startsWith(":"));
  if (new Set(pseudo.map(([name]) => name)).size !== pseudo.length) return "duplicate pseudo-header";
  const value = (name: string) => fields.find(([n]) => n === name)?.[1];
  if (value(":method") !== "CONNECT" || value(":protocol") !== "webtransport") return "not a WebTransport CONNECT";
  const authority = value(":authority") ?? "";
  const path = value(":path") ?? "";
  if (value(":scheme") !== "https" || !authority || !path.startsWith("/")) return "bad :scheme, :authority or :path";
  return { path, origin: value("origin") ?? "", authority, headers: fields };
}
