/**
 * RFC 6184 H.264 RTP packetizer (packetization-mode=1): a NAL unit that fits the payload budget goes as is (single
 * NAL unit packet), a larger one as FU-A fragments, and SPS + PPS together as one STAP-A. The last packet of a
 * frame carries the marker bit; every packet of a frame carries the frame's timestamp. Access unit delimiters and
 * filler data are not sent (RFC 6184 §5.1: they carry nothing a receiver needs).
 */
import { RtpHeader, RtpPacket } from "werift";
import { NAL_TYPE, nalType } from "./annexb.ts";

/** Default payload budget: 1200 bytes keeps packet + SRTP + UDP/IP headers under any common path MTU. */
export const DEFAULT_RTP_PAYLOAD_BYTES = 1200;
const FU_A = 28;
const STAP_A = 24;

/** Options of {@link H264Packetizer}. */
export interface H264PacketizerOptions {
  /** Largest RTP payload in bytes (at least 3 + 1, so an FU-A carries something). */
  readonly maxPayloadBytes?: number;
  /** First sequence number (default random, as RFC 3550 asks). */
  readonly initialSequenceNumber?: number;
  /** Send SPS and PPS together in one STAP-A (default true). */
  readonly aggregateParameterSets?: boolean;
}

/**
 * The RTP payloads of one frame (its NAL units without start codes), before any header: what every viewer of a
 * channel shares, once per frame, while sequence numbers and SSRC are each viewer's ({@link RtpSequencer}).
 */
export function h264Payloads(nals: readonly Uint8Array[], maxPayloadBytes: number, aggregateParameterSets = true): Buffer[] {
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

/** Puts a frame's payloads into RTP packets with one stream's sequence numbers (kept across frames, from a random start). */
export class RtpSequencer {
  #sequence: number;

  constructor(initialSequenceNumber = Math.floor(Math.random() * 0x10000)) {
    this.#sequence = initialSequenceNumber & 0xffff;
  }

  /** The sequence number the next packet will get. */
  get nextSequenceNumber(): number {
    return this.#sequence;
  }

  /** One packet per payload at RTP `timestamp`, the last with the marker bit (the payloads are shared, not copied). */
  packets(payloads: readonly Buffer[], timestamp: number): RtpPacket[] {
    return payloads.map((payload, i) => {
      const header = new RtpHeader({ sequenceNumber: this.#sequence, timestamp: timestamp >>> 0, marker: i === payloads.length - 1 });
      this.#sequence = (this.#sequence + 1) & 0xffff;
      return new RtpPacket(header, payload);
    });
  }
}

/** Turns the NAL units of one frame at a time into RTP packets ({@link h264Payloads} + {@link RtpSequencer}). */
export class H264Packetizer {
  readonly maxPayloadBytes: number;
  readonly #aggregate: boolean;
  readonly #sequencer: RtpSequencer;

  constructor(options: H264PacketizerOptions = {}) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_RTP_PAYLOAD_BYTES;
    if (!Number.isInteger(this.maxPayloadBytes) || this.maxPayloadBytes < 4) throw new RangeError("maxPayloadBytes must be an integer ≥ 4");
    this.#aggregate = options.aggregateParameterSets ?? true;
    this.#sequencer = new RtpSequencer(options.initialSequenceNumber);
  }

  /** The sequence number the next packet will get. */
  get nextSequenceNumber(): number {
    return this.#sequencer.nextSequenceNumber;
  }

  /** The RTP packets of one frame (its NAL units without start codes) at RTP `timestamp`. */
  packetize(nals: readonly Uint8Array[], timestamp: number): RtpPacket[] {
    return this.#sequencer.packets(h264Payloads(nals, this.maxPayloadBytes, this.#aggregate), timestamp);
  }
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
