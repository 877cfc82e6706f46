/**
 * The last packets one stream sent, to answer NACKs (RFC 4585 §6.2.1) as werift's sender does from its 128-packet
 * cache: by sequence number, forgotten when overwritten 128 packets later. It holds references, not copies: the
 * payload (a channel's, shared by every viewer) and the frame's abs-capture-time bytes, in parallel arrays so a
 * packet sent costs no object.
 */

/** Packets kept, as werift's `RTP_HISTORY_SIZE`. */
export const RTP_HISTORY_SIZE = 128;

/** One packet as it was sent. */
export interface SentPacket {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly payload: Buffer;
  readonly absCaptureTime: Uint8Array;
  /** The SRTP rollover counter it was protected with. */
  readonly roc: number;
}

/** A ring of the last {@link RTP_HISTORY_SIZE} packets of one stream. */
export class RtpHistory {
  readonly #seq = new Int32Array(RTP_HISTORY_SIZE).fill(-1);
  readonly #timestamp = new Uint32Array(RTP_HISTORY_SIZE);
  readonly #marker = new Uint8Array(RTP_HISTORY_SIZE);
  readonly #roc = new Uint32Array(RTP_HISTORY_SIZE);
  readonly #payload: Array<Buffer | undefined> = new Array(RTP_HISTORY_SIZE);
  readonly #abs: Array<Uint8Array | undefined> = new Array(RTP_HISTORY_SIZE);

  /** Remembers a packet sent (replacing the one 128 sequence numbers before it). */
  add(sequenceNumber: number, timestamp: number, marker: boolean, payload: Buffer, absCaptureTime: Uint8Array, roc: number): void {
    const i = sequenceNumber % RTP_HISTORY_SIZE;
    this.#seq[i] = sequenceNumber;
    this.#timestamp[i] = timestamp;
    this.#marker[i] = marker ? 1 : 0;
    this.#roc[i] = roc;
    this.#payload[i] = payload;
    this.#abs[i] = absCaptureTime;
  }

  /** The packet sent with `sequenceNumber`, if it is still kept. */
  get(sequenceNumber: number): SentPacket | undefined {
    const i = sequenceNumber % RTP_HISTORY_SIZE;
    if (this.#seq[i] !== sequenceNumber) return undefined;
    return { sequenceNumber, timestamp: this.#timestamp[i]!, marker: this.#marker[i] === 1, payload: this.#payload[i]!, absCaptureTime: this.#abs[i]!, roc: this.#roc[i]! };
  }
}
