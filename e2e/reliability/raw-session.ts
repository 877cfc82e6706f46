/**
 * A WebTransport session spoken byte by byte from the raw QUIC client of signaling's tests: what no browser would
 * send (foreign origins, oversized or garbage control messages, malformed datagrams, floods) and a client that
 * vanishes without a word (a cut network).
 */
import { type ClientMessage, ControlMessageReader, type ServerMessage, frameControlMessage, parseServerMessage } from "@ballstream/protocol";
import { concatBytes, CAPSULE_TYPE, decodeCloseSession, readCapsule, FRAME_TYPE, encodeFrame, readFrame, decodeFieldSection, encodeFieldSection, encodeSettings, serverSettings, encodeVarint } from "@ballstream/signaling/webtransport/internal";
import type { WebTransportCloseInfo } from "@ballstream/signaling/webtransport";
import { connectFields, connectRawClient, type RawClient } from "@ballstream/signaling/testing";

/** The WebTransport bidirectional stream signal (draft-02). */
const WT_BIDI_SIGNAL = 0x41;
/** The stream ids of the `index`-th session of a client: CONNECT on 8 × index, its control stream on the next bidi id. */
const streamsOf = (index: number) => ({ connect: 8 * index, control: 8 * index + 4 });

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
  /** The server's close code and reason (its CLOSE_WEBTRANSPORT_SESSION capsule in a DATA frame), once it sent one. */
  closeInfo(): WebTransportCloseInfo | null;
  /** Ends the session from the client's side: FIN on its control and CONNECT streams (the connection stays). */
  finish(): void;
}

/**
 * Connects to the WebTransport port and sends a CONNECT from `origin`; with `on`, sends it as session number
 * `on.index` of an open client instead (one connection making session after session).
 */
export async function openRawSession(wtPort: number, origin: string, on?: { readonly client: RawClient; readonly index: number }): Promise<RawSession> {
  const client = on?.client ?? (await connectRawClient(wtPort));
  const { connect: connectStream, control: controlStream } = streamsOf(on?.index ?? 0);
  if (!on) client.send(2, concatBytes(encodeVarint(0x00), encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(65536)))), false);
  const connect = connectFields(origin, "/wt", `127.0.0.1:${wtPort}`);
  client.send(connectStream, encodeFrame(FRAME_TYPE.headers, encodeFieldSection(connect)), false);
  await client.until(() => readFrame(client.read(connectStream).bytes, 0, 65536) !== null || client.conn.isClosed(), 10_000);
  const frame = readFrame(client.read(connectStream).bytes, 0, 65536);
  const status = frame ? (decodeFieldSection(frame.frame.payload, 65536).find(([n]) => n === ":status")?.[1] ?? "none") : "none";

  let opened = false;
  /** Control bytes QUIC flow control has not taken yet: written as the window opens, on every poll. */
  let unsent: Uint8Array = new Uint8Array(0);
  let finAfterUnsent = false;
  /** A FIN on a stream the server may already have stopped or reset (then there is nothing to end). */
  const finQuietly = (streamId: number) => {
    try {
      client.send(streamId, new Uint8Array(0), true);
    } catch {
      // stopped or reset by the server
    }
  };
  const pump = () => {
    if (unsent.length > 0) unsent = unsent.subarray(client.offer(controlStream, unsent));
    if (unsent.length === 0 && finAfterUnsent) {
      finAfterUnsent = false;
      finQuietly(controlStream);
    }
  };
  const reader = new ControlMessageReader();
  const received: ServerMessage[] = [];
  let consumed = 0;
  const poll = () => {
    pump();
    const { bytes } = client.read(controlStream);
    if (bytes.length > consumed) {
      for (const m of reader.push(bytes.subarray(consumed))) received.push(parseServerMessage(m));
      consumed = bytes.length;
    }
  };
  const ended = () => {
    const connect = client.read(connectStream);
    return client.conn.isClosed() || connect.fin || connect.resetCode !== null;
  };
  const session: RawSession = {
    client,
    status,
    sendControlBytes(bytes, fin = false) {
      const header = opened ? new Uint8Array(0) : concatBytes(encodeVarint(WT_BIDI_SIGNAL), encodeVarint(connectStream));
      opened = true;
      unsent = concatBytes(unsent, header, bytes);
      finAfterUnsent ||= fin;
      pump();
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
          return received.some((m) => m.type === type) || ended() || client.read(controlStream).fin;
        }, timeoutMs)
        .catch(() => undefined);
      return received.find((m) => m.type === type);
    },
    datagram(payload) {
      try {
        client.datagram(concatBytes(encodeVarint(connectStream / 4), payload));
      } catch {
        // the client's own queue is full or the connection is gone: a flood may lose some
      }
    },
    ended,
    closeInfo() {
      const { bytes } = client.read(connectStream);
      const headers = readFrame(bytes, 0, 65536);
      const data = headers && readFrame(bytes, headers.bytes, 65536);
      const capsule = data?.frame.type === FRAME_TYPE.data ? readCapsule(data.frame.payload, 0, 65536) : null;
      return capsule?.capsule.type === CAPSULE_TYPE.closeSession ? decodeCloseSession(capsule.capsule.value) : null;
    },
    finish() {
      if (opened) {
        finAfterUnsent = true;
        pump();
      }
      finQuietly(connectStream);
    },
  };
  return session;
}
