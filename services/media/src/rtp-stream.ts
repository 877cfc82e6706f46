/**
 * One viewer's video RTP beside werift's generic `RTCRtpSender.sendRtp`, for frames whose payloads are made once
 * for many viewers (a channel's): per packet a header from the stream's {@link RtpHeaderTemplate}, SRTP from
 * {@link SrtpProtector} with the keys werift's DTLS derived, and the datagram straight onto the ICE pair's socket
 * (werift's ICE-level `send` when the pair is not a plain UDP one). werift's sender per packet maps, sorts and
 * serialises the header extensions, takes an NTP time, concatenates buffers and awaits four async layers down to
 * the socket; the fan-out benchmark measured 64 µs per viewer per frame (docs/channels.md).
 *
 * Everything werift would have done for the stream stays done: its own SSRC and payload type, sequence numbers from
 * a random start without gaps, the SRTP rollover counter, NACKs answered from this stream's own history of 128
 * packets ({@link RtpHistory}; werift's cache stays empty, so it answers none twice), and the sender's counters
 * that werift's sender reports (SR: NTP and RTP time, packet and octet counts) and getStats read.
 */
import { isIP } from "node:net";
import type { RTCRtpSender } from "werift";
import { RtpHeaderTemplate, type RtpHeaderExtensionIds } from "./rtp-header.ts";
import { RtpHistory } from "./rtp-history.ts";
import { SrtpProtector } from "./srtp-protect.ts";

/** The counters of werift's sender that its sender reports and stats read (private in werift's typings). */
interface SenderCounters {
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  octetCount: number;
  packetCount: number;
  headerBytesSent: number;
  sequenceNumber?: number;
  timestamp?: number;
  retransmittedPacketsSent: number;
  retransmittedBytesSent: number;
}

/** werift's SRTP session: its local context holds the session keys. */
interface SrtpLocal {
  readonly localContext: { readonly profile: number; readonly srtpSessionKey: Buffer; readonly srtpSessionSalt: Buffer; readonly srtpSessionAuthTag: Buffer };
}

/** What is used of werift's ICE connection and its selected pair. */
interface IcePath {
  readonly nominated?: { readonly protocol: { readonly type: string; readonly transport?: UdpLike }; readonly remoteCandidate: { readonly host: string; readonly port: number }; packetsSent: number; bytesSent: number };
  canSendApplicationData(): boolean;
  send(data: Buffer): Promise<void>;
}
interface UdpLike {
  readonly type: string;
  readonly closed: boolean;
  readonly socket: { send(data: Uint8Array, port: number, address: string): void };
}

/** The selected pair's socket and destination, once checked. */
interface Direct {
  readonly pair: NonNullable<IcePath["nominated"]>;
  readonly transport: UdpLike | undefined;
}

/** One viewer's video stream, sent beside werift's sender. */
export class RtpStream {
  readonly #sender: RTCRtpSender;
  readonly #counters: SenderCounters;
  readonly #ids: RtpHeaderExtensionIds;
  readonly #history = new RtpHistory();
  #sequence: number;
  #roc = 0;
  #template: RtpHeaderTemplate | undefined;
  #header = Buffer.alloc(0);
  #payloadType = -1;
  #protector: SrtpProtector | undefined;
  /** werift's SRTP session the protector was made from (a new DTLS session makes a new one). */
  #srtp: unknown;
  #direct: Direct | undefined;
  /** When the last frame went out (performance ms): werift's sender report pairs it with the frame's RTP timestamp. */
  #sentAtMs = 0;
  #reportsOurs = false;

  constructor(sender: RTCRtpSender, ids: RtpHeaderExtensionIds, initialSequenceNumber = Math.floor(Math.random() * 0x10000)) {
    this.#sender = sender;
    this.#counters = sender as unknown as SenderCounters;
    this.#ids = ids;
    this.#sequence = initialSequenceNumber & 0xffff;
  }

  /** The sequence number the next packet will get. */
  get nextSequenceNumber(): number {
    return this.#sequence;
  }

  /**
   * Sends one frame: a packet per payload at RTP `timestamp`, the last with the marker bit, each with the frame's
   * abs-capture-time payload when negotiated. Returns false, sending nothing and using no sequence number, while
   * DTLS is not up.
   */
  sendFrame(payloads: readonly Buffer[], timestamp: number, absCaptureTime: Uint8Array): boolean {
    if (!this.#ready()) return false;
    const template = this.#template!;
    let octets = 0;
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i]!;
      const seq = this.#sequence;
      const marker = i === payloads.length - 1;
      this.#transmit(template, seq, timestamp, marker, payload, absCaptureTime, this.#roc);
      this.#history.add(seq, timestamp >>> 0, marker, payload, absCaptureTime, this.#roc);
      octets += payload.length;
      this.#sequence = (seq + 1) & 0xffff;
      if (this.#sequence === 0) this.#roc = (this.#roc + 1) >>> 0;
    }
    this.#sentAtMs = performance.now();
    if (!this.#reportsOurs) this.#takeOverReportTime();
    const c = this.#counters;
    c.rtpTimestamp = timestamp >>> 0;
    c.timestamp = timestamp >>> 0;
    c.sequenceNumber = (this.#sequence - 1) & 0xffff;
    c.octetCount += octets;
    c.packetCount = (c.packetCount + payloads.length) >>> 0;
    c.headerBytesSent += payloads.length * template.length;
    void this.#sender.runRtcp(); // werift's sender reports; it starts them on its first packet, we on ours
    return true;
  }

  /** Sends again the packets of a NACK still in the history, exactly as first sent. */
  resend(lost: readonly number[]): void {
    if (!this.#ready()) return;
    for (const seq of lost) {
      const p = this.#history.get(seq);
      if (p === undefined) continue;
      this.#transmit(this.#template!, p.sequenceNumber, p.timestamp, p.marker, p.payload, p.absCaptureTime, p.roc);
      this.#counters.retransmittedPacketsSent++;
      this.#counters.retransmittedBytesSent += p.payload.length;
      this.#counters.headerBytesSent += this.#template!.length;
    }
  }

  /**
   * werift's sender stores an NTP time per packet (ntpTime(): 1–2 µs, as much as the rest of a packet's header); its
   * report, every 0.5–1.5 s, is the only reader. So the sender's `ntpTimestamp` becomes the last frame's send time,
   * converted when the report reads it.
   */
  #takeOverReportTime(): void {
    this.#reportsOurs = true;
    Object.defineProperty(this.#sender, "ntpTimestamp", { configurable: true, enumerable: true, get: () => weriftNtpTime(this.#sentAtMs), set: () => undefined });
  }

  /** Whether DTLS is up and the negotiated codec known, with a header template and protector for them. */
  #ready(): boolean {
    const sender = this.#sender;
    const dtls = sender.dtlsTransport;
    if (dtls === undefined || dtls.state !== "connected" || sender.codec === undefined) return false;
    const payloadType = sender.codec.payloadType;
    if (payloadType !== this.#payloadType) {
      this.#template = new RtpHeaderTemplate(sender.ssrc, payloadType, this.#ids);
      this.#header = Buffer.alloc(this.#template.length);
      this.#payloadType = payloadType;
    }
    const srtp = dtls.srtp as unknown as SrtpLocal | undefined;
    if (srtp === undefined) return false;
    if (srtp !== this.#srtp) {
      const k = srtp.localContext;
      this.#protector = new SrtpProtector({ profile: k.profile, key: k.srtpSessionKey, salt: k.srtpSessionSalt, authKey: k.srtpSessionAuthTag });
      this.#srtp = srtp;
    }
    return true;
  }

  #transmit(template: RtpHeaderTemplate, seq: number, timestamp: number, marker: boolean, payload: Buffer, absCaptureTime: Uint8Array, roc: number): void {
    template.write(this.#header, seq, timestamp, marker, absCaptureTime);
    const data = this.#protector!.protect(this.#header, payload, roc);
    const dtls = this.#sender.dtlsTransport;
    dtls.bytesSent += data.length;
    dtls.packetsSent++;
    const ice = dtls.iceTransport.connection as unknown as IcePath;
    if (!ice.canSendApplicationData()) return; // as werift: nothing leaves before ICE is up or once consent expired
    const pair = ice.nominated!;
    if (this.#direct?.pair !== pair) this.#direct = { pair, transport: plainUdp(pair) };
    const transport = this.#direct.transport;
    if (transport === undefined || transport.closed) {
      void ice.send(data).catch(() => undefined);
      return;
    }
    try {
      transport.socket.send(data, pair.remoteCandidate.port, pair.remoteCandidate.host);
    } catch {
      return; // the socket closed under us: the packet is lost, as werift's send would lose it
    }
    pair.packetsSent++;
    pair.bytesSent += data.length;
  }
}

/**
 * The NTP timestamp werift's `ntpTime()` gives at performance time `atMs`, in werift's own format: seconds since
 * 1900 in the high word and, in the low word, the decimal digits of the second's fraction as an integer (not a binary
 * fraction; kept so that channel viewers' sender reports say what werift's said).
 */
export function weriftNtpTime(atMs: number): bigint {
  const [seconds, digits] = ((performance.timeOrigin + atMs - Date.UTC(1900, 0, 1)) / 1e3).toString().split(".").map(Number);
  return (BigInt(seconds! >>> 0) << 32n) | BigInt((digits ?? 0) >>> 0);
}

/** The pair's UDP transport when its datagrams can go straight to its socket: plain STUN/UDP to an IP address (not TURN, TCP or an mDNS name). */
function plainUdp(pair: NonNullable<IcePath["nominated"]>): UdpLike | undefined {
  const transport = pair.protocol.type === "stun" ? pair.protocol.transport : undefined;
  return transport?.type === "udp" && isIP(pair.remoteCandidate.host) !== 0 ? transport : undefined;
}
