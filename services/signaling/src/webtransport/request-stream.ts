/**
 * One HTTP/3 request stream read as what matters to WebTransport (no I/O): its CONNECT request, then, while
 * its session lives, the close capsule inside its DATA frames, then its end. Frame rules of RFC 9114 §4.1 apply.
 */
import { ByteBuffer } from "./bytes.ts";
import { CAPSULE_TYPE, decodeCloseSession, readCapsule } from "./capsule.ts";
import { parseConnectRequest } from "./connect-request.ts";
import { H3_ERROR, Http3Error } from "./errors.ts";
import { FRAME_TYPE, readFrame } from "./frames.ts";
import type { ConnectRequest } from "./h3-events.ts";
import { decodeFieldSection } from "./qpack.ts";
import type { WebTransportCloseInfo } from "./types.ts";

/** Frames that are a connection error on a request stream (RFC 9114 §7.2). */
const NOT_ON_REQUEST: ReadonlySet<number | bigint> = new Set([FRAME_TYPE.settings, FRAME_TYPE.goaway, FRAME_TYPE.maxPushId, FRAME_TYPE.cancelPush, FRAME_TYPE.pushPromise]);

/** What a request stream yields, in order. */
export type RequestItem =
  /** A WebTransport CONNECT: the stream waits for {@link RequestStream.answer}. */
  | { readonly kind: "connect"; readonly request: ConnectRequest }
  /** A request that is no WebTransport CONNECT (answer 400). */
  | { readonly kind: "badRequest"; readonly reason: string }
  | { readonly kind: "close"; readonly info: WebTransportCloseInfo }
  /** FIN after every frame; `insideCapsule` when it cut a capsule short. */
  | { readonly kind: "end"; readonly insideCapsule: boolean };

/** The parsing state of one request stream. */
export class RequestStream {
  readonly #maxMessageBytes: number;
  /** "deciding" from its CONNECT until it is answered: nothing more is read meanwhile. */
  #phase: "headers" | "deciding" | "answered" = "headers";
  #request: ConnectRequest | null = null;
  readonly #buffer = new ByteBuffer();
  readonly #capsules = new ByteBuffer();
  #fin = false;
  #ended = false;

  /** `maxMessageBytes` bounds each frame payload and capsule. */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Bytes (and FIN) the peer sent. */
  push(bytes: Uint8Array, fin: boolean): void {
    this.#buffer.push(bytes);
    this.#fin ||= fin;
  }

  /** Bytes held: unfinished frames and capsules. */
  get bufferedBytes(): number {
    return this.#buffer.length + this.#capsules.length;
  }

  /**
   * The next item, or null until more bytes (or a decision) come; capsules are read only while `live` (a session).
   * Throws {@link Http3Error}: an oversized frame or field section (stream scope), a bad capsule (session scope), a
   * misplaced frame or bad QPACK (connection scope). Unknown frames, trailers, unknown and DRAIN capsules are skipped.
   */
  next(live: boolean): RequestItem | null {
    while (this.#phase !== "deciding") {
      const capsule = live ? readCapsule(this.#capsules.view(), 0, this.#maxMessageBytes) : null;
      if (capsule) {
        const info = capsule.capsule.type === CAPSULE_TYPE.closeSession ? decodeCloseSession(capsule.capsule.value) : null;
        this.#capsules.consume(capsule.bytes);
        if (info) return { kind: "close", info };
        continue;
      }
      const read = this.#readFrame();
      if (!read) break;
      this.#buffer.consume(read.bytes);
      const { type, payload } = read.frame;
      if (NOT_ON_REQUEST.has(type)) throw new Http3Error(H3_ERROR.frameUnexpected, `frame 0x${type.toString(16)} on a request stream`);
      if (this.#phase === "headers") {
        if (type === FRAME_TYPE.data) throw new Http3Error(H3_ERROR.frameUnexpected, "DATA before HEADERS");
        if (type === FRAME_TYPE.headers) return this.#headers(payload);
      } else if (type === FRAME_TYPE.data && live) {
        this.#capsules.push(payload);
      }
    }
    if (!this.#fin || this.#ended || this.#phase === "deciding") return null;
    this.#ended = true;
    return { kind: "end", insideCapsule: this.#capsules.length > 0 };
  }

  /** The CONNECT waiting for a decision, which it now has; null when none waits. */
  answer(): ConnectRequest | null {
    if (this.#phase !== "deciding") return null;
    this.#phase = "answered";
    return this.#request;
  }

  #headers(block: Uint8Array): RequestItem {
    const request = parseConnectRequest(decodeFieldSection(block, this.#maxMessageBytes));
    if (typeof request === "string") {
      this.#phase = "answered";
      return { kind: "badRequest", reason: request };
    }
    this.#phase = "deciding";
    this.#request = request;
    return { kind: "connect", request };
  }

  #readFrame(): ReturnType<typeof readFrame> {
    try {
      return readFrame(this.#buffer.view(), 0, this.#maxMessageBytes);
    } catch (error) {
      if (error instanceof Http3Error && error.code === H3_ERROR.excessiveLoad) throw new Http3Error(error.code, error.message, "stream");
      throw error;
    }
  }
}
