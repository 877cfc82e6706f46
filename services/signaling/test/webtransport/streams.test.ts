/** The Web Streams adapters against a scripted in-memory StreamIo (pure logic; the real one is quiche). */
import { describe, expect, test } from "bun:test";
import { WebTransportError, webTransportCodeToHttp3 } from "../../src/webtransport/errors.ts";
import { IncomingStream, OutgoingStream, type StreamIo, reasonToWebTransportCode, writeAll } from "../../src/webtransport/streams.ts";

/** A stream that takes at most `capacity` bytes until `grant()` is called. */
class FakeIo implements StreamIo {
  sent: number[] = [];
  fin = false;
  resets: number[] = [];
  stops: number[] = [];
  resumes = 0;
  private wake: (() => void) | undefined;
  private fail: ((error: Error) => void) | undefined;
  constructor(public capacity: number) {}
  send(_id: number, data: Uint8Array, fin: boolean): number | null {
    const taken = Math.min(this.capacity, data.length);
    if (taken === 0 && data.length > 0) return null;
    this.capacity -= taken;
    this.sent.push(...data.subarray(0, taken));
    if (fin && taken === data.length) this.fin = true;
    return taken;
  }
  waitWritable(): Promise<void> {
    return new Promise((resolve, reject) => ((this.wake = resolve), (this.fail = reject)));
  }
  grant(bytes: number): void {
    this.capacity += bytes;
    this.wake?.();
  }
  resetStream(_id: number, code: number): void {
    this.resets.push(code);
    this.fail?.(new Error("stream reset")); // as the driver does: a reset stream never takes more
  }
  stopSending(_id: number, code: number): void {
    this.stops.push(code);
  }
  resumeRead(): void {
    this.resumes++;
  }
}

describe("writeAll", () => {
  test("never hands over more than the capacity and waits for more", async () => {
    const io = new FakeIo(3);
    let done = false;
    const writing = writeAll(io, 0, Uint8Array.of(1, 2, 3, 4, 5, 6, 7), true).then(() => (done = true));
    await Bun.sleep(1);
    expect(io.sent).toEqual([1, 2, 3]);
    expect(done).toBe(false);
    io.grant(3);
    await Bun.sleep(1);
    expect(io.sent.length).toBe(6);
    io.grant(10);
    await writing;
    expect(io.sent).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(io.fin).toBe(true);
  });
});

describe("OutgoingStream", () => {
  test("writes the prefix first, then chunks with back-pressure, then FIN", async () => {
    const io = new FakeIo(4);
    let ended = 0;
    const stream = new OutgoingStream(io, 1, () => ended++, Uint8Array.of(0x41, 0x00));
    const writer = stream.writable.getWriter();
    const write = writer.write(Uint8Array.of(1, 2, 3, 4));
    await Bun.sleep(1);
    expect(io.sent).toEqual([0x41, 0x00, 1, 2]);
    io.grant(100);
    await write;
    await writer.close();
    expect(io.sent).toEqual([0x41, 0x00, 1, 2, 3, 4]);
    expect(io.fin).toBe(true);
    expect(ended).toBe(1);
  });

  test("abort resets at once even while a write waits for capacity; the waiting write then fails", async () => {
    const io = new FakeIo(0);
    const stream = new OutgoingStream(io, 1, () => undefined, new Uint8Array(0));
    const writer = stream.writable.getWriter();
    const pending = writer.write(new Uint8Array(10)).catch((e: unknown) => e);
    await Bun.sleep(5);
    void writer.abort(new WebTransportError("superseded", "stream", 1)).catch(() => undefined);
    await Bun.sleep(0);
    expect(io.resets).toEqual([webTransportCodeToHttp3(1)]); // not waiting for the write
    expect(await pending).toBeInstanceOf(Error);
  });

  test("abort resets with the mapped WebTransport code; terminate resets once", async () => {
    const io = new FakeIo(100);
    let ended = 0;
    const stream = new OutgoingStream(io, 1, () => ended++, new Uint8Array(0));
    await stream.writable.getWriter().abort(new WebTransportError("x", "stream", 5));
    expect(io.resets).toEqual([webTransportCodeToHttp3(5)]);
    stream.terminate();
    expect(io.resets.length).toBe(1);
    expect(ended).toBe(1);
  });
});

describe("IncomingStream", () => {
  test("delivers bytes, reports back-pressure, closes on FIN", async () => {
    const io = new FakeIo(0);
    let ended = 0;
    const stream = new IncomingStream(io, 0, () => ended++);
    expect(stream.push(new Uint8Array(1000), false)).toBe(true);
    expect(stream.push(new Uint8Array(300 * 1024), false)).toBe(false); // above the high-water mark: pause
    expect(stream.paused).toBe(true);
    const reader = stream.readable.getReader();
    expect((await reader.read()).value?.length).toBe(1000);
    expect((await reader.read()).value?.length).toBe(300 * 1024);
    await Bun.sleep(1);
    expect(io.resumes).toBeGreaterThan(0); // the consumer drained the queue: read from quiche again
    stream.push(Uint8Array.of(1), true);
    expect(Array.from((await reader.read()).value ?? [])).toEqual([1]);
    expect((await reader.read()).done).toBe(true);
    expect(ended).toBe(1);
  });

  test("a finished stream nobody reads still counts: its bytes stay queued and it ends only once read", async () => {
    let ended = 0;
    const stream = new IncomingStream(new FakeIo(0), 0, () => ended++);
    stream.push(new Uint8Array(5000), true);
    await Bun.sleep(1);
    expect(stream.queuedBytes).toBe(5000);
    expect(stream.ended).toBe(false);
    expect(ended).toBe(0);
    const reader = stream.readable.getReader();
    expect((await reader.read()).value?.length).toBe(5000);
    expect(stream.queuedBytes).toBe(0);
    expect((await reader.read()).done).toBe(true);
    expect(stream.ended).toBe(true);
    expect(ended).toBe(1);
  });

  test("a peer reset errors the reader with the WebTransport code", async () => {
    const stream = new IncomingStream(new FakeIo(0), 0, () => {});
    stream.reset(webTransportCodeToHttp3(77));
    const error = await stream.readable.getReader().read().catch((e) => e);
    expect(error).toBeInstanceOf(WebTransportError);
    expect((error as WebTransportError).streamErrorCode).toBe(77);
  });

  test("cancel sends STOP_SENDING; terminate errors the reader", async () => {
    const io = new FakeIo(0);
    const cancelled = new IncomingStream(io, 0, () => {});
    await cancelled.readable.cancel(new WebTransportError("stop", "stream", 2));
    expect(io.stops).toEqual([webTransportCodeToHttp3(2)]);
    const terminated = new IncomingStream(io, 4, () => {});
    terminated.terminate(new WebTransportError("gone", "session"));
    expect(await terminated.readable.getReader().read().catch((e) => e.source)).toBe("session");
  });

  test("reasonToWebTransportCode reads WebTransportError codes only", () => {
    expect(reasonToWebTransportCode(new WebTransportError("x", "stream", 9))).toBe(9);
    expect(reasonToWebTransportCode(new Error("x"))).toBe(0);
    expect(reasonToWebTransportCode(undefined)).toBe(0);
  });
});
