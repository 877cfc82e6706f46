/** Test clients of the WebTransport layer for other packages' tests (e2e): the raw QUIC client and the QUIC-layer attacks. */
export { ATTACKER_HOST, floodInitials, halfOpen, unfinishedHeaders } from "./attacks.ts";
export type { FloodResult } from "./attacks.ts";
export { clientInitial, connectFields, connectRawClient } from "./quic-client.ts";
export type { RawClient } from "./quic-client.ts";
