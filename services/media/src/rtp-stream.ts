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
 * packets ({@link RtpHistory}; werift's cache stays empty, so it answers none twice), the sender's counters that
 * getStats and werift's round-trip time read, and werift's sender reports, byte for byte ({@link senderReport}),
 * sent after the frame that is due one instead of from a timer per viewer.
 */
import { isIP } from "node:net";
import { type RTCRtpSender, compactNtp } from "werift";
import { RtpHeaderTemplate, type RtpHeaderExtensionIds } from "./rtp-header.ts";
import { RtpHistory } from "./rtp-history.ts";
import { SrtpProtector } from "./srtp-protect.ts";

/** The counters of werift's sender that its stats and round-trip time read (private in werift's typings). */
interface SenderCounters {
  ntpTimestamp: bigint;
  lastSRtimestamp?: number;
  lastSentSRTimestamp?: number;
  readonly cname?: string;
  rtpTimestamp: number;
  octetCount: number;
  packetCount: number;
  headerBytesSent: number;
  sequenceNumber?: number;
  timestamp?: number;
  retransmittedPacketsSent: number;
  retransmittedBytesSent: number;
}

/** werift's SRTCP session: it numbers and protects our sender reports (its index per SSRC). */
interface SrtcpLocal {
  encrypt(raw: Buffer): Buffer;
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

/**
 * One RTP packet before its header: a payload of the frame at RTP `timestamp`, the frame's last when `marker`, with
 * the frame's abs-capture-time payload; the packet says what it belongs to, so a pacer can send it on its own.
 */
export interface RtpPayload {
  readonly payload: Buffer;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly absCaptureTime: Uint8Array;
}

/** One viewer's video stream, sent beside werift's sender. */
export class RtpStream {
  readonly #sender: RTCRtpSender;
  readonly #counters: SenderCounters;
  readonly #ids: RtpHeaderExtensionIds;
  readonly #history = new RtpHistory();
  /** The next packet's sequence number: from a random start, as RFC 3550 asks. */
  #sequence = Math.floor(Math.random() * 0x10000);
  #roc = 0;
  #template: RtpHeaderTemplate | undefined;
  #header = Buffer.alloc(0);
  #payloadType = -1;
  #protector: SrtpProtector | undefined;
  /** werift's SRTP session the protector was made from (a new DTLS session makes a new one). */
  #srtp: unknown;
  #direct: Direct | undefined;
  /** When the next sender report is due (performance ms; 0: on the first frame, set 0.5–1.5 s on). */
  #reportAtMs = 0;

  constructor(sender: RTCRtpSender, ids: RtpHeaderExtensionIds) {
    this.#sender = sender;
    this.#counters = sender as unknown as SenderCounters;
    this.#ids = ids;
  }

  /**
   * Sends one frame: a packet per payload at RTP `timestamp`, the last with the marker bit, each with the frame's
   * abs-capture-time payload when negotiated. Returns false, sending nothing and using no sequence number, while
   * DTLS is not up.
   */
  sendFrame(payloads: readonly Buffer[], timestamp: number, absCaptureTime: Uint8Array): boolean {
    if (!this.#ready()) return false;
    for (let i = 0; i < payloads.length; i++) this.#send(payloads[i]!, timestamp, i === payloads.length - 1, absCaptureTime);
    return true;
  }

  /** Sends one packet of a frame (a paced sender's, one at a time); false, sending nothing, while DTLS is not up. */
  send(packet: RtpPayload): boolean {
    if (!this.#ready()) return false;
    this.#send(packet.payload, packet.timestamp, packet.marker, packet.absCaptureTime);
    return true;
  }

  /** Numbers, protects, sends and keeps one packet, and counts it as werift's sender would; a frame's last may bring a sender report. */
  #send(payload: Buffer, timestamp: number, marker: boolean, absCaptureTime: Uint8Array): void {
    const template = this.#template!;
    const seq = this.#sequence;
    this.#transmit(template, seq, timestamp, marker, payload, absCaptureTime, this.#roc);
    this.#history.add(seq, timestamp >>> 0, marker, payload, absCaptureTime, this.#roc);
    this.#sequence = (seq + 1) & 0xffff;
    if (this.#sequence === 0) this.#roc = (this.#roc + 1) >>> 0;
    const c = this.#counters;
    c.rtpTimestamp = timestamp >>> 0;
    c.timestamp = timestamp >>> 0;
    c.sequenceNumber = seq;
    c.octetCount += payload.length;
    c.packetCount = (c.packetCount + 1) >>> 0;
    c.headerBytesSent += template.length;
    if (!marker) return;
    const now = performance.now();
    if (this.#reportAtMs === 0) this.#reportAtMs = now + reportIntervalMs();
    else if (now >= this.#reportAtMs) this.#report(now);
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
   * The sender report (and CNAME) werift's sender would send, right after the frame it describes: werift's own loop
   * (started by its first packet, which never comes here) wakes every 0.5–1.5 s on a timer per viewer, builds its
   * packets through generic writers and stamps an NTP time on every packet for it. Its round-trip time from the
   * receivers' reports still works: it reads the last report's time from the sender's counters.
   */
  #report(now: number): void {
    this.#reportAtMs = now + reportIntervalMs();
    const srtcp = this.#sender.dtlsTransport.srtcp as unknown as SrtcpLocal | undefined;
    if (srtcp === undefined) return;
    const c = this.#counters;
    const ntp = weriftNtpTime(now);
    c.ntpTimestamp = ntp;
    c.lastSRtimestamp = compactNtp(ntp);
    c.lastSentSRTimestamp = Date.now() / 1000;
    this.#sendDatagram(srtcp.encrypt(senderReport(this.#sender.ssrc, ntp, c.rtpTimestamp, c.packetCount, c.octetCount, c.cname)));
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
    this.#sendDatagram(this.#protector!.protect(this.#header, payload, roc));
  }

  /** One protected datagram onto the selected pair: its socket when plain UDP, else werift's ICE send. */
  #sendDatagram(data: Buffer): void {
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

/** werift's sender report interval: 0.5–1.5 s, uniformly (RFC 3550 §6.2's randomisation). */
const reportIntervalMs = () => 500 + Math.random() * 1000;

/**
 * The RTCP compound packet werift's sender reports with, byte for byte: a sender report without report blocks
 * (RFC 3550 §6.4.1) and, with a `cname`, a source description of it (§6.5; werift pads the chunk to 32 bits and adds
 * no terminating null when it is already aligned).
 */
export function senderReport(ssrc: number, ntp: bigint, rtpTimestamp: number, packetCount: number, octetCount: number, cname?: string): Buffer {
  const text = cname === undefined ? undefined : Buffer.from(cname);
  const chunk = text === undefined ? 0 : 4 + 2 + text.length;
  const sdes = text === undefined ? 0 : 4 + chunk + ((4 - (chunk % 4)) % 4);
  const out = Buffer.alloc(28 + sdes);
  out[0] = 0x80;
  out[1] = 200;
  out.writeUInt16BE(6, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  out.writeBigUInt64BE(ntp, 8);
  out.writeUInt32BE(rtpTimestamp >>> 0, 16);
  out.writeUInt32BE(packetCount >>> 0, 20);
  out.writeUInt32BE(octetCount >>> 0, 24);
  if (text !== undefined) {
    out[28] = 0x81;
    out[29] = 202;
    out.writeUInt16BE((sdes - 4) / 4, 30);
    out.writeUInt32BE(ssrc >>> 0, 32);
    out[36] = 1; // CNAME
    out[37] = text.length;
    text.copy(out, 38);
  }
  return out;
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
