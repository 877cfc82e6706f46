/**
 * The session's datagrams, both ways: a frame's {@link Coordinates} out the moment it is detected (latest wins, a
 * lost one is not retried), signaling's {@link ErrorReport}s in. A malformed datagram is dropped.
 */
import { type Coordinates, type ErrorReport, decodeErrorReport, encodeCoordinates } from "@ballstream/protocol";

/** A WebTransport's `datagrams`: `createWritable()` where the browser has it, else the older `writable`. */
export interface DatagramDuplex {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  createWritable?(): WritableStream<Uint8Array>;
}

/** Coordinates out, error reports in, over one transport's datagrams. */
export class ReportChannel {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(datagrams: DatagramDuplex) {
    this.#readable = datagrams.readable;
    this.#writer = (datagrams.createWritable ? datagrams.createWritable() : datagrams.writable).getWriter();
  }

  /** Sends one frame's coordinates now; never waits and never throws (a datagram may be lost anyway). */
  send(coordinates: Coordinates): void {
    this.#writer.write(encodeCoordinates(coordinates)).catch(() => undefined);
  }

  /** The error reports in arrival order, until the transport closes (its `closed` says why); malformed ones dropped. */
  async *reports(): AsyncGenerator<ErrorReport> {
    const reader = this.#readable.getReader();
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) return;
      const report = reportOf(next.value);
      if (report) yield report;
    }
  }
}

/** A datagram as an error report, or null when it is not a valid one. */
function reportOf(datagram: Uint8Array): ErrorReport | null {
  try {
    return decodeErrorReport(datagram);
  } catch {
    return null;
  }
}
