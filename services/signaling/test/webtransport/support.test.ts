import "reflect-metadata";
import { describe, expect, test } from "bun:test";
import * as x509 from "@peculiar/x509";
import { ByteBuffer, concatBytes } from "../../src/webtransport/bytes.ts";
import { MAX_SELF_SIGNED_VALIDITY_MS, certificateHashBase64, certificateHashes, generateSelfSignedCertificate } from "../../src/webtransport/cert.ts";
import { parseQuicheStreamCode, streamFailure } from "../../src/webtransport/quiche-errors.ts";
import { WebTransportError, webTransportCodeToHttp3 } from "../../src/webtransport/errors.ts";
import { DEFAULT_LIMITS, resolveLimits } from "../../src/webtransport/limits.ts";

describe("ByteBuffer", () => {
  test("accumulates pieces, consumes from the front, grows as needed", () => {
    const buffer = new ByteBuffer();
    buffer.push(Uint8Array.of(1, 2, 3));
    buffer.push(new Uint8Array(1000).fill(9));
    expect(buffer.length).toBe(1003);
    buffer.consume(2);
    expect(Array.from(buffer.view().subarray(0, 2))).toEqual([3, 9]);
    buffer.consume(1001);
    expect(buffer.length).toBe(0);
    expect(() => buffer.consume(1)).toThrow(RangeError);
  });

  test("concatBytes joins arrays", () => {
    expect(Array.from(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)))).toEqual([1, 2, 3]);
  });
});

describe("limits", () => {
  test("defaults, overrides and validation", () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ maxStreamsPerSession: 3 }).maxStreamsPerSession).toBe(3);
    expect(() => resolveLimits({ idleTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxDatagramBytes: 1.5 })).toThrow(RangeError);
  });
});

describe("certificates", () => {
  test("self-signed ECDSA P-256, valid at most 14 days, hash = SHA-256 of the DER", async () => {
    const { certPem, keyPem } = await generateSelfSignedCertificate();
    expect(keyPem).toContain("BEGIN PRIVATE KEY");
    const cert = new x509.X509Certificate(certPem);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeLessThanOrEqual(MAX_SELF_SIGNED_VALIDITY_MS);
    expect(cert.notBefore.getTime()).toBeLessThanOrEqual(Date.now());
    expect((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe("P-256");
    const [hash] = await certificateHashes(certPem);
    expect(hash).toEqual(new Uint8Array(await crypto.subtle.digest("SHA-256", cert.rawData)));
    expect(certificateHashBase64(hash!)).toBe(Buffer.from(hash!).toString("base64"));
  });

  test("refuses a validity browsers would reject and PEM without a certificate", async () => {
    await expect(generateSelfSignedCertificate(MAX_SELF_SIGNED_VALIDITY_MS + 1)).rejects.toThrow(RangeError);
    await expect(certificateHashes("not a pem")).rejects.toThrow(TypeError);
  });
});

describe("quiche stream errors", () => {
  test("codes are read from StreamReset/StreamStopped messages", () => {
    expect(parseQuicheStreamCode("StreamReset(91143052388571)")).toBe(91143052388571);
    expect(parseQuicheStreamCode("StreamStopped(256)")).toBe(256);
    expect(parseQuicheStreamCode("Done")).toBeNull();
  });

  test("a peer's stop becomes a WebTransportError with its WebTransport code; other failures without one", () => {
    const stopped = streamFailure(new Error(`StreamStopped(${webTransportCodeToHttp3(7)})`));
    expect(stopped).toBeInstanceOf(WebTransportError);
    expect(stopped.streamErrorCode).toBe(7);
    expect(streamFailure(new Error("StreamStopped(256)")).message).toContain("h3 0x100");
    expect(streamFailure(new Error("InvalidStreamState")).streamErrorCode).toBeNull();
  });
});
