/** A growable byte buffer for parsers that receive a stream in pieces. */
export class ByteBuffer {
  #data = new Uint8Array(256);
  #start = 0;
  #end = 0;

  /** Bytes held. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends a copy of `chunk`. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#data.length) {
      const held = this.length;
      const next = held + chunk.length > this.#data.length / 2 ? new Uint8Array(Math.max(2 * this.#data.length, held + chunk.length)) : this.#data;
      next.set(this.#data.subarray(this.#start, this.#end));
      this.#data = next;
      this.#start = 0;
      this.#end = held;
    }
    this.#data.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The held bytes; valid until the next push or consume. */
  view(): Uint8Array {
    return this.#data.subarray(this.#start, this.#end);
  }

  /** Drops the first `count` held bytes. */
  consume(count: number): void {
    if (count < 0 || count > this.length) throw new RangeError(`cannot consume ${count} of ${this.length} bytes`);
    this.#start += count;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
