/**
 * An in-memory stand-in for one server-side WebTransport session (the `WebTransportSession` interface), driven
 * by the test as the page would: open the control stream, send and read messages, send datagrams, close.
 */
import { type ClientMessage, ControlMessageReader, type ServerMessage, frameControlMessage, parseServerMessage } from "@ballstream/protocol";
import type { WebTransportBidirectionalStream, WebTransportCloseInfo, WebTransportSession } from "../src/webtransport/mod.ts";

function pipe<T>(): { readable: ReadableStream<T>; controller: ReadableStreamDefaultController<T> } {
  let controller!: ReadableStreamDefaultController<T>;
  const readable = new ReadableStream<T>({ start: (c) => void (controller = c) });
  return { readable, controller };
}

function safely(f: () => void): void {
  try {
    f();
  } catch {
    // already closed
  }
}

/** The page's end of a control stream. */
export class FakeControlStream {
  readonly received: ServerMessage[] = [];
  readonly #toServer = pipe<Uint8Array>();
  readonly #reader = new ControlMessageReader();
  readonly #waiters: Array<() => void> = [];
  readonly serverSide: WebTransportBidirectionalStream;

  constructor() {
    this.serverSide = {
      readable: this.#toServer.readable,
      writable: new WritableStream<Uint8Array>({
        write: (chunk) => {
          for (const m of this.#reader.push(chunk)) this.received.push(parseServerMessage(m));
          for (const w of this.#waiters.splice(0)) w();
        },
      }),
    };
  }

  send(message: ClientMessage): void {
    this.#toServer.controller.enqueue(frameControlMessage(message));
  }

  sendBytes(bytes: Uint8Array): void {
    this.#toServer.controller.enqueue(bytes);
  }

  end(): void {
    safely(() => this.#toServer.controller.close());
  }

  /** Resolves with the first received message of this type (waiting up to 5 s). */
  async next<T extends ServerMessage["type"]>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = this.received.find((m) => m.type === type);
      if (found) return found as Extract<ServerMessage, { type: T }>;
      if (Date.now() > deadline) throw new Error(`no ${type} message; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

/** A server-side session whose other end the test plays. */
let nextPort = 40000;

export class FakeWebTransportSession implements WebTransportSession {
  readonly id = `fake-${Math.random().toString(36).slice(2)}`;
  readonly path = "/wt";
  readonly origin = "http://127.0.0.1:1";
  /** Each fake its own port, as each connection of one page has. */
  readonly remoteAddress = `127.0.0.1:${nextPort++}`;
  readonly sentDatagrams: Uint8Array[] = [];
  closeInfo: WebTransportCloseInfo | undefined;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly #bidi = pipe<WebTransportBidirectionalStream>();
  readonly #uni = pipe<ReadableStream<Uint8Array>>();
  readonly #datagramsIn = pipe<Uint8Array>();
  #resolveClosed!: (info: WebTransportCloseInfo) => void;

  readonly incomingBidirectionalStreams = this.#bidi.readable;
  readonly incomingUnidirectionalStreams = this.#uni.readable;
  readonly datagrams = {
    readable: this.#datagramsIn.readable,
    writable: new WritableStream<Uint8Array>({ write: (d) => void this.sentDatagrams.push(d) }),
    maxDatagramSize: 1200,
  };

  constructor() {
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** The page opens a bidirectional stream. */
  openStream(): FakeControlStream {
    const s = new FakeControlStream();
    this.#bidi.controller.enqueue(s.serverSide);
    return s;
  }

  sendDatagram(data: Uint8Array): void {
    this.#datagramsIn.controller.enqueue(data);
  }

  createBidirectionalStream(): Promise<WebTransportBidirectionalStream> {
    return Promise.reject(new Error("not supported by the fake"));
  }

  /** The chunks written on each unidirectional stream the server opened, in order. */
  readonly uniStreams: Uint8Array[][] = [];

  createUnidirectionalStream(): Promise<WritableStream<Uint8Array>> {
    const chunks: Uint8Array[] = [];
    this.uniStreams.push(chunks);
    return Promise.resolve(new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk) }));
  }

  /** The server (or, from the test, the page) closes the session. */
  close(info: Partial<WebTransportCloseInfo> = {}): void {
    if (this.closeInfo) return;
    this.closeInfo = { closeCode: info.closeCode ?? 0, reason: info.reason ?? "" };
    for (const c of [this.#bidi.controller, this.#uni.controller, this.#datagramsIn.controller]) safely(() => c.close());
    this.#resolveClosed(this.closeInfo);
  }
}
