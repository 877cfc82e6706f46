/**
 * RFC 6184 H.264 RTP payloads (packetization-mode=1): a NAL unit that fits the payload budget goes as is (single
 * NAL unit packet), a larger one as FU-A fragments, and SPS + PPS together as one STAP-A. Headers are each stream's
 * (rtp-stream.ts: the frame's timestamp on every packet, the marker on its last). Access unit delimiters and filler
 * data are not sent (RFC 6184 §5.1: they carry nothing a receiver needs).
 */
import { NAL_TYPE, nalType } from "./annexb.ts";

/** Default payload budget: 1200 bytes keeps packet + SRTP + UDP/IP headers under any common path MTU. */
export const DEFAULT_RTP_PAYLOAD_BYTES = 1200;
const FU_A = 28;
const STAP_A = 24;

/**
 * The RTP payloads of one frame (its NAL units without start codes), before any header, in order (the last one
 * takes the marker bit): what every viewer of a channel shares, once per frame, while sequence numbers, SSRC and
 * SRTP are each viewer's (rtp-stream.ts). Throws a RangeError for a budget too small for FU-A (under 4 bytes).
 */
export function h264Payloads(nals: readonly Uint8Array[], maxPayloadBytes: number = DEFAULT_RTP_PAYLOAD_BYTES, aggregateParameterSets = true): Buffer[] {
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 4) throw new RangeError("maxPayloadBytes must be an integer ≥ 4");
  const payloads: Uint8Array[] = [];
  const sendable = nals.filter((n) => n.length > 0 && nalType(n) !== NAL_TYPE.aud && nalType(n) !== NAL_TYPE.filler);
  for (let i = 0; i < sendable.length; i++) {
    const nal = sendable[i]!;
    const next = sendable[i + 1];
    if (aggregateParameterSets && nalType(nal) === NAL_TYPE.sps && next !== undefined && nalType(next) === NAL_TYPE.pps) {
      const stap = stapA([nal, next]);
      if (stap.length <= maxPayloadBytes) {
        payloads.push(stap);
        i++;
        continue;
      }
    }
    if (nal.length <= maxPayloadBytes) payloads.push(nal);
    else payloads.push(...fuA(nal, maxPayloadBytes));
  }
  return payloads.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
}

/** STAP-A: one header byte (F and NRI of the strongest unit, type 24), then each unit with a 16-bit size. */
function stapA(nals: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + nals.reduce((n, nal) => n + 2 + nal.length, 0));
  out[0] = nals.reduce((nri, nal) => Math.max(nri, nal[0]! & 0x60), 0) | STAP_A;
  let at = 1;
  for (const nal of nals) {
    out[at] = nal.length >> 8;
    out[at + 1] = nal.length & 0xff;
    out.set(nal, at + 2);
    at += 2 + nal.length;
  }
  return out;
}

/** FU-A: the NAL header is replaced by an indicator (F, NRI, type 28) and a header (S, E, original type). */
function fuA(nal: Uint8Array, maxPayloadBytes: number): Uint8Array[] {
  const indicator = (nal[0]! & 0xe0) | FU_A;
  const type = nal[0]! & 0x1f;
  const body = nal.subarray(1);
  const chunk = maxPayloadBytes - 2;
  const out: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += chunk) {
    const part = body.subarray(at, Math.min(at + chunk, body.length));
    const fragment = new Uint8Array(2 + part.length);
    fragment[0] = indicator;
    fragment[1] = (at === 0 ? 0x80 : 0) | (at + chunk >= body.length ? 0x40 : 0) | type;
    fragment.set(part, 2);
    out.push(fragment);
  }
  return out;
}
