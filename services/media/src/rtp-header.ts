/**
 * One stream's RTP header as bytes made once (version, payload type, SSRC, the extension block with its ids and the
 * zero playout delay), so a packet's header is a 20–32-byte copy with its sequence number, timestamp, marker and
 * the frame's abs-capture-time written in: werift's sender maps, sorts and serialises the extension list again for
 * every packet. The bytes are what werift's `RtpHeader.serialize` makes for the same fields (RFC 8285: one-byte
 * extension elements for ids 1–14, else two-byte; sorted by id; zero padding to 32 bits).
 */

/** The extensions a stream carries: each id when the viewer negotiated it. */
export interface RtpHeaderExtensionIds {
  readonly playoutDelayId?: number | undefined;
  readonly absCaptureTimeId?: number | undefined;
}

/** RFC 8285 extension profiles. */
const ONE_BYTE_PROFILE = 0xbede;
const TWO_BYTE_PROFILE = 0x1000;
/** The playout-delay payload for min = max = 0 and the abs-capture-time payload's length (NTP Q32.32, no offset). */
const PLAYOUT_DELAY_BYTES = 3;
const ABS_CAPTURE_TIME_BYTES = 8;

/** A stream's header bytes, stamped per packet. */
export class RtpHeaderTemplate {
  /** Bytes of every header of this stream. */
  readonly length: number;
  readonly #bytes: Buffer;
  /** Where the abs-capture-time payload goes (-1: not negotiated). */
  readonly #absCaptureTimeAt: number;

  constructor(ssrc: number, payloadType: number, ids: RtpHeaderExtensionIds) {
    const extensions = [
      ...(ids.playoutDelayId === undefined ? [] : [{ id: ids.playoutDelayId, length: PLAYOUT_DELAY_BYTES, abs: false }]),
      ...(ids.absCaptureTimeId === undefined ? [] : [{ id: ids.absCaptureTimeId, length: ABS_CAPTURE_TIME_BYTES, abs: true }]),
    ].sort((a, b) => a.id - b.id);
    const twoByte = extensions.some((e) => e.id > 14);
    const elements = extensions.reduce((n, e) => n + (twoByte ? 2 : 1) + e.length, 0);
    const block = extensions.length === 0 ? 0 : 4 + Math.ceil(elements / 4) * 4;
    this.length = 12 + block;
    const b = Buffer.alloc(this.length);
    b[0] = 0x80 | (extensions.length > 0 ? 0x10 : 0);
    b[1] = payloadType & 0x7f;
    b.writeUInt32BE(ssrc >>> 0, 8);
    let absAt = -1;
    if (extensions.length > 0) {
      b.writeUInt16BE(twoByte ? TWO_BYTE_PROFILE : ONE_BYTE_PROFILE, 12);
      b.writeUInt16BE((block - 4) / 4, 14);
      let at = 16;
      for (const e of extensions) {
        if (twoByte) {
          b[at++] = e.id;
          b[at++] = e.length;
        } else b[at++] = (e.id << 4) | (e.length - 1);
        if (e.abs) absAt = at; // the playout delay's payload stays zero: min = max = 0
        at += e.length;
      }
    }
    this.#bytes = b;
    this.#absCaptureTimeAt = absAt;
  }

  /** Writes one packet's header into `out` (at 0): `absCaptureTime` is the frame's 8-byte payload. */
  write(out: Buffer, sequenceNumber: number, timestamp: number, marker: boolean, absCaptureTime: Uint8Array): void {
    this.#bytes.copy(out, 0);
    if (marker) out[1] = out[1]! | 0x80;
    out.writeUInt16BE(sequenceNumber & 0xffff, 2);
    out.writeUInt32BE(timestamp >>> 0, 4);
    if (this.#absCaptureTimeAt >= 0) out.set(absCaptureTime, this.#absCaptureTimeAt);
  }
}
