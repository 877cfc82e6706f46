/** The first bytes of a peer's stream, which say what it is (RFC 9114 §6, WebTransport draft-02 §4). */
import { readVarint } from "./varint.ts";

/** Stream signal (bidirectional) and stream type (unidirectional) that open WebTransport streams, draft-02. */
export const WT_STREAM_SIGNAL = { bidirectional: 0x41, unidirectional: 0x54 } as const;

/** Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2). */
export const UNI_STREAM_TYPE = { control: 0x00, push: 0x01, qpackEncoder: 0x02, qpackDecoder: 0x03 } as const;

/** What a stream is, and how many of its bytes said so. */
export type StreamHeader =
  | { readonly kind: "webtransport"; readonly sessionId: number | bigint; readonly bytes: number }
  | { readonly kind: "request"; readonly bytes: 0 }
  | { readonly kind: "unidirectional"; readonly type: number | bigint; readonly bytes: number };

/** Reads the header of peer stream `streamId` from its first bytes; null until enough have arrived. */
export function readStreamHeader(streamId: number, data: Uint8Array): StreamHeader | null {
  const bidirectional = streamId % 4 === 0;
  const first = readVarint(data, 0);
  if (!first) return null;
  if (first.value === (bidirectional ? WT_STREAM_SIGNAL.bidirectional : WT_STREAM_SIGNAL.unidirectional)) {
    const sessionId = readVarint(data, first.bytes);
    return sessionId && { kind: "webtransport", sessionId: sessionId.value, bytes: first.bytes + sessionId.bytes };
  }
  return bidirectional ? { kind: "request", bytes: 0 } : { kind: "unidirectional", type: first.value, bytes: first.bytes };
}
