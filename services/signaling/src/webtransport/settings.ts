/** HTTP/3 SETTINGS (RFC 9114 §7.2.4) and the set Chromium needs before it opens WebTransport draft-02 sessions. */
import { concatBytes } from "./bytes.ts";
import { H3_ERROR, Http3Error } from "./errors.ts";
import { encodeVarint, readVarint } from "./varint.ts";

/** Setting identifiers this server sends or reads. */
export const SETTING = {
  qpackMaxTableCapacity: 0x01,
  maxFieldSectionSize: 0x06,
  qpackBlockedStreams: 0x07,
  enableConnectProtocol: 0x08,
  h3Datagram: 0x33,
  /** The pre-RFC 9297 identifier Chromium still checks. */
  h3DatagramDraft04: 0xffd277,
  /** SETTINGS_ENABLE_WEBTRANSPORT of WebTransport over HTTP/3 draft-02. */
  enableWebTransportDraft02: 0x2b603742,
} as const;

/** Identifiers reserved from HTTP/2; receiving one is H3_SETTINGS_ERROR. */
const HTTP2_ONLY_SETTINGS: ReadonlySet<number> = new Set([0x02, 0x03, 0x04, 0x05]);

/** Decoded settings; keys and values are bigints only above 2^53. */
export type Settings = Map<number | bigint, number | bigint>;

/** The server's SETTINGS: no QPACK dynamic table, extended CONNECT, HTTP datagrams, WebTransport draft-02. */
export function serverSettings(maxFieldSectionSize: number): Map<number, number> {
  return new Map([
    [SETTING.qpackMaxTableCapacity, 0],
    [SETTING.qpackBlockedStreams, 0],
    [SETTING.maxFieldSectionSize, maxFieldSectionSize],
    [SETTING.enableConnectProtocol, 1],
    [SETTING.h3Datagram, 1],
    [SETTING.h3DatagramDraft04, 1],
    [SETTING.enableWebTransportDraft02, 1],
  ]);
}

/** Encodes a SETTINGS frame payload. */
export function encodeSettings(settings: ReadonlyMap<number, number>): Uint8Array {
  return concatBytes(...[...settings].flatMap(([id, value]) => [encodeVarint(id), encodeVarint(value)]));
}

/**
 * Decodes a SETTINGS frame payload. Throws {@link Http3Error}: H3_FRAME_ERROR when truncated, H3_SETTINGS_ERROR for a
 * duplicate or HTTP/2-only identifier. Unknown identifiers (GREASE included) are kept; callers ignore them.
 */
export function decodeSettings(payload: Uint8Array): Settings {
  const settings: Settings = new Map();
  let offset = 0;
  while (offset < payload.length) {
    const id = readVarint(payload, offset);
    const value = id && readVarint(payload, offset + id.bytes);
    if (!id || !value) throw new Http3Error(H3_ERROR.frameError, "truncated SETTINGS frame");
    if (typeof id.value === "number" && HTTP2_ONLY_SETTINGS.has(id.value)) {
      throw new Http3Error(H3_ERROR.settingsError, `HTTP/2 setting 0x${id.value.toString(16)} received`);
    }
    if (settings.has(id.value)) throw new Http3Error(H3_ERROR.settingsError, `duplicate setting 0x${id.value.toString(16)}`);
    settings.set(id.value, value.value);
    offset += id.bytes + value.bytes;
  }
  return settings;
}
