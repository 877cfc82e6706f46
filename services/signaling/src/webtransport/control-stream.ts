/** The peer's HTTP/3 control stream (RFC 9114 §6.2.1): SETTINGS first, then only frames allowed there. */
import { ByteBuffer } from "./bytes.ts";
import { H3_ERROR, Http3Error } from "./errors.ts";
import { FRAME_TYPE, readFrame } from "./frames.ts";
import { decodeSettings, type Settings } from "./settings.ts";

/** Frames that are a connection error on the control stream after SETTINGS. */
const NOT_ON_CONTROL: ReadonlySet<number | bigint> = new Set([FRAME_TYPE.settings, FRAME_TYPE.data, FRAME_TYPE.headers, FRAME_TYPE.pushPromise]);

/** The parsing state of the peer's control stream. */
export class ControlStream {
  /** The peer's SETTINGS, once read. */
  settings: Settings | null = null;
  readonly #maxMessageBytes: number;
  readonly #buffer = new ByteBuffer();

  /** `maxMessageBytes` bounds each frame payload. */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Bytes of the stream; throws a connection-scope {@link Http3Error} on a violation or on FIN (a critical stream). */
  push(bytes: Uint8Array, fin: boolean): void {
    this.#buffer.push(bytes);
    for (let read = readFrame(this.#buffer.view(), 0, this.#maxMessageBytes); read; read = readFrame(this.#buffer.view(), 0, this.#maxMessageBytes)) {
      this.#buffer.consume(read.bytes);
      const { type, payload } = read.frame;
      if (this.settings === null) {
        if (type !== FRAME_TYPE.settings) throw new Http3Error(H3_ERROR.missingSettings, "control stream must start with SETTINGS");
        this.settings = decodeSettings(payload);
      } else if (NOT_ON_CONTROL.has(type)) {
        throw new Http3Error(H3_ERROR.frameUnexpected, `frame 0x${type.toString(16)} on the control stream`);
      }
      // GOAWAY, MAX_PUSH_ID, CANCEL_PUSH and unknown frames need no action from this server.
    }
    if (fin) throw new Http3Error(H3_ERROR.closedCriticalStream, "control stream closed");
  }

  /** Bytes of an unfinished frame held. */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }
}
