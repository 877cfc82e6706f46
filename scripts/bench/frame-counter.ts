/**
 * Counting delivered frames from RTP packets without decoding them: a frame is its RTP timestamp, and it is
 * complete when the packet with the marker bit arrives. Because media stamps RTP with the capture time
 * (shared/rtp-time.ts), the capture time of every frame is known from its timestamp alone.
 */
import { RTP_VIDEO_CLOCK_HZ } from "@ballstream/protocol";

const WRAP = 2 ** 32;

/**
 * The capture time (epoch ms) whose RTP timestamp is `rtpTimestamp`, taking the wrap of the 32-bit clock
 * (every 13.25 h) nearest to `nearMs`. Exact to the 1/90 ms the timestamp was rounded to.
 */
export function captureTimeFromRtp(rtpTimestamp: number, nearMs: number): number {
  const nearTicks = (nearMs * RTP_VIDEO_CLOCK_HZ) / 1000;
  const wraps = Math.round((nearTicks - (rtpTimestamp >>> 0)) / WRAP);
  return (((rtpTimestamp >>> 0) + wraps * WRAP) * 1000) / RTP_VIDEO_CLOCK_HZ;
}

/** The header fields a {@link FrameCounter} needs from one RTP packet. */
export interface RtpFields {
  readonly timestamp: number;
  readonly marker: boolean;
  readonly sequenceNumber: number;
}

/**
 * The RTP header fields of `packet` as it came off the socket, or null when it is not RTP (RTCP, STUN, DTLS, or
 * too short). SRTP encrypts only the payload, so the header is read in the clear. Demultiplexed as RFC 7983 and
 * RFC 5761 say: first byte 128–191 is RTP or RTCP; payload types 64–95 (after the marker bit) are RTCP.
 */
export function rtpFields(packet: Uint8Array): RtpFields | null {
  if (packet.length < 12 || packet[0]! < 128 || packet[0]! > 191) return null;
  const type = packet[1]! & 0x7f;
  if (type >= 64 && type <= 95) return null;
  const timestamp = ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0;
  return { timestamp, marker: (packet[1]! & 0x80) !== 0, sequenceNumber: (packet[2]! << 8) | packet[3]! };
}

/** What one receiver counted since the last {@link FrameCounter.reset}. */
export interface FrameCount {
  /** Frames the generator published (truths seen on the bus). */
  readonly framesSent: number;
  /** Frames whose last packet (marker bit) arrived. */
  readonly framesComplete: number;
  readonly packets: number;
  /** Gaps in the RTP sequence numbers (packets never seen, before retransmission). */
  readonly sequenceGaps: number;
  /** Per complete frame: arrival of its last packet minus its capture time, ms. */
  readonly latenciesMs: readonly number[];
}

/** Counts one session's frames. Feed it truths and packets; read and reset it per measurement window. */
export class FrameCounter {
  #sent = 0;
  #complete = new Set<number>();
  #packets = 0;
  #gaps = 0;
  #lastSeq: number | null = null;
  #latencies: number[] = [];

  /** The generator published a frame. */
  truth(): void {
    this.#sent++;
  }

  /** An RTP packet arrived at `atMs` (epoch ms). */
  packet(timestamp: number, marker: boolean, sequenceNumber: number, atMs: number): void {
    this.#packets++;
    if (this.#lastSeq !== null) {
      const step = (sequenceNumber - this.#lastSeq + 0x10000) % 0x10000;
      if (step > 1 && step < 0x8000) this.#gaps += step - 1;
    }
    if (this.#lastSeq === null || ((sequenceNumber - this.#lastSeq + 0x10000) % 0x10000) < 0x8000) this.#lastSeq = sequenceNumber;
    if (marker && !this.#complete.has(timestamp >>> 0)) {
      this.#complete.add(timestamp >>> 0);
      this.#latencies.push(atMs - captureTimeFromRtp(timestamp, atMs));
    }
  }

  /** The counts since the last reset. */
  read(): FrameCount {
    return { framesSent: this.#sent, framesComplete: this.#complete.size, packets: this.#packets, sequenceGaps: this.#gaps, latenciesMs: [...this.#latencies] };
  }

  /** Starts a new window (the sequence-number state is kept). */
  reset(): void {
    this.#sent = 0;
    this.#complete = new Set();
    this.#packets = 0;
    this.#gaps = 0;
    this.#latencies = [];
  }
}
