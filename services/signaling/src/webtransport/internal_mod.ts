/**
 * The WebTransport layer's wire codecs, apart from its public surface (mod.ts), as nats.js keeps `internal_mod.ts`:
 * for tools and tests that speak HTTP/3 and WebTransport byte by byte (raw clients, fuzzers). Not for services.
 */
export { concatBytes } from "./bytes.ts";
export { CAPSULE_TYPE, decodeCloseSession, encodeCapsule, encodeCloseSession, readCapsule } from "./capsule.ts";
export { FRAME_TYPE, encodeFrame, readFrame } from "./frames.ts";
export { decodeFieldSection, encodeFieldSection } from "./qpack.ts";
export type { HeaderField } from "./qpack.ts";
export { encodeSettings, serverSettings } from "./settings.ts";
export { encodeVarint, readVarint } from "./varint.ts";
