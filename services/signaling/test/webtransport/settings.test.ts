import { describe, expect, test } from "bun:test";
import { H3_ERROR } from "../../src/webtransport/errors.ts";
import { http3ErrorCodeOf } from "./http3-error-code.ts";
import { SETTING, decodeSettings, encodeSettings, serverSettings } from "../../src/webtransport/settings.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";


describe("SETTINGS", () => {
  test("the server set is what Chromium's draft-02 WebTransport needs, without a QPACK dynamic table", () => {
    const settings = decodeSettings(encodeSettings(serverSettings(65536)));
    expect(settings.get(SETTING.enableWebTransportDraft02)).toBe(1);
    expect(settings.get(SETTING.h3Datagram)).toBe(1);
    expect(settings.get(SETTING.h3DatagramDraft04)).toBe(1);
    expect(settings.get(SETTING.enableConnectProtocol)).toBe(1);
    expect(settings.get(SETTING.qpackMaxTableCapacity)).toBe(0);
    expect(settings.get(SETTING.maxFieldSectionSize)).toBe(65536);
  });

  test("unknown (GREASE) identifiers are kept, large values stay exact", () => {
    const payload = Uint8Array.from([...encodeVarint(0x1f * 3 + 0x21), ...encodeVarint(2n ** 60n)]);
    expect(decodeSettings(payload).get(0x1f * 3 + 0x21)).toBe(2n ** 60n);
  });

  test("malformed payloads are typed errors", () => {
    expect(http3ErrorCodeOf(() => decodeSettings(Uint8Array.from([0x01])))).toBe(H3_ERROR.frameError);
    expect(http3ErrorCodeOf(() => decodeSettings(Uint8Array.from([0x01, 0x40])))).toBe(H3_ERROR.frameError);
    expect(http3ErrorCodeOf(() => decodeSettings(Uint8Array.from([0x01, 0x00, 0x01, 0x00])))).toBe(H3_ERROR.settingsError);
    expect(http3ErrorCodeOf(() => decodeSettings(Uint8Array.from([0x02, 0x00])))).toBe(H3_ERROR.settingsError);
    expect(decodeSettings(new Uint8Array(0)).size).toBe(0);
  });
});
