/**
 * A WebTransport session spoken byte by byte from the raw QUIC client of signaling's tests: what no browser would
 * send (foreign origins, oversized or garbage control messages, malformed datagrams, floods) and a client that
 * vanishes without a word (a cut network).
 */
import { type ClientMessage, ControlMessageReader, type ServerMessage, frameControlMessage, parseServerMessage } from "@ballstream/shared";
import { concatBytes } from "../../services/signaling/src/webtransport/bytes.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "../../services/signaling/src/webtransport/frames.ts";
import { type HeaderField, decodeFieldSection, encodeFieldSection } from "../../services/signaling/src/webtransport/qpack.ts";
import { encodeSettings, serverSettings } from "../../services/signaling/src/webtransport/settings.ts";
import { encodeVarint } from "../../services/signaling/src/webtransport/varint.ts";
import { type RawClient, connectRawClient } from "../../services/signaling/test/webtransport/quic-client.ts";

/** The WebTransport bidirectional stream signal (draft-02). */
const WT_BIDI_SIGNAL = 0x41;
/** The stream ids this client uses: CONNECT on 0, the control stream on 4. */
const CONNECT_STREAM = 0;
const CONTROL_STREAM = 4;

/** A raw client with one CONNECT sent. */
export interface RawSession {
  readonly client: RawClient;
  /** The `:status` the server answered. */
  readonly status: string;
  /** Sends bytes on the control stream (the first call adds the WebTransport stream header). */
  sendControlBytes(bytes: Uint8Array, fin?: boolean): void;
  /** Sends one control message. */
  send(message: ClientMessage): void;
  /** Server messages received on the control stream so far. */
  messages(): ServerMessage[];
  /** Waits until a message of `type` arrived (or the server ended the stream); returns it, if any. */
  next(type: ServerMessage["type"], timeoutMs?: number): Promise<ServerMessage | undefined>;
  /** Sends one datagram of this session (quarter stream id 0 + payload). */
  datagram(payload: Uint8Array): void;
  /** Whether the server ended the session: the CONNECT stream finished or reset, or the connection closed. */
  ended(): boolean;
}

/** Connects to the WebTransport port and sends a CONNECT from `origin`. */
export async function openRawSession(wtPort: number, origin: string): Promise<RawSession> {
  const client = await connectRawClient(wtPort);
  client.send(2, concatBytes(encodeVarint(0x00), encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(65536)))), false);
  const connect: HeaderField[] = [
    [":method", "CONNECT"],
    [":protocol", "webtransport"],
    [":scheme", "https"],
    [":authority", `127.0.0.1:${wtPort}`],
    [":path", "/wt"],
    ["origin", origin],
  ];
  client.send(CONNECT_STREAM, encodeFrame(FRAME_TYPE.headers, encodeFieldSection(connect)), false);
  await client.until(() => readFrame(client.read(CONNECT_STREAM).bytes, 0, 65536) !== null || client.conn.isClosed(), 10_000);
  const frame = readFrame(client.read(CONNECT_STREAM).bytes, 0, 65536);
  const status = frame ? (decodeFieldSection(frame.frame.payload, 65536).find(([n]) => n === ":status")?.[1] ?? "none") : "none";

  let opened = false;
  const reader = new ControlMessageReader();
  const received: ServerMessage[] = [];
  let consumed = 0;
  const poll = () => {
    const { bytes } = client.read(CONTROL_STREAM);
    if (bytes.length > consumed) {
      for (const m of reader.push(bytes.subarray(consumed))) received.push(parseServerMessage(m));
      consumed = bytes.length;
    }
  };
  const ended = () => {
    const connect = client.read(CONNECT_STREAM);
    return client.conn.isClosed() || connect.fin || connect.resetCode !== null;
  };
  const session: RawSession = {
    client,
    status,
    sendControlBytes(bytes, fin = false) {
      const header = opened ? new Uint8Array(0) : concatBytes(encodeVarint(WT_BIDI_SIGNAL), encodeVarint(CONNECT_STREAM));
      opened = true;
      client.send(CONTROL_STREAM, concatBytes(header, bytes), fin);
    },
    send(message) {
      session.sendControlBytes(frameControlMessage(message));
    },
    messages() {
      poll();
      return [...received];
    },
    async next(type, timeoutMs = 15_000) {
      await client
        .until(() => {
          poll();
          return received.some((m) => m.type === type) || ended() || client.read(CONTROL_STREAM).fin;
        }, timeoutMs)
        .catch(() => undefined);
      return received.find((m) => m.type === type);
    },
    datagram(payload) {
      try {
        client.datagram(concatBytes(encodeVarint(CONNECT_STREAM / 4), payload));
      } catch {
        // the client's own queue is full or the connection is gone: a flood may lose some
      }
    },
    ended,
  };
  return session;
}
