/**
 * An HTTP/3 WebTransport server for browsers (WebTransport draft-02 as Chromium speaks it) over the quiche binding
 * of `@matrixai/quic`. This is the module's whole public surface; the other files are internals.
 *
 * ```ts
 * const accept = admission(allowOrigins(["https://app.example"]), onPaths(["/wt"]));
 * const server = await createWebTransportServer({ host: "127.0.0.1", port: 4433, accept, log });
 * for await (const session of server.sessions) handle(session); // session mirrors the W3C WebTransport API
 * ```
 */
export { createWebTransportServer } from "./server.ts";
export { admission, allowOrigins, onPaths } from "./admission.ts";
export { MAX_SELF_SIGNED_VALIDITY_MS, certificateHashBase64, certificateHashes, generateSelfSignedCertificate } from "./cert.ts";
export { H3_ERROR, Http3Error, WebTransportError, http3CodeToWebTransport, webTransportCodeToHttp3 } from "./errors.ts";
export { DEFAULT_LIMITS } from "./limits.ts";
export type {
  AdmissionCheck,
  AdmissionDecision,
  AdmissionPolicy,
  CertificatePem,
  WebTransportBidirectionalStream,
  WebTransportCloseInfo,
  WebTransportDatagramDuplexStream,
  WebTransportLimits,
  WebTransportRefusal,
  WebTransportRequest,
  WebTransportServer,
  WebTransportServerOptions,
  WebTransportSession,
} from "./types.ts";
