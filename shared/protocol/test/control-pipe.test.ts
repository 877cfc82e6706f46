import { describe, expect, test } from "bun:test";
import { ControlPipe, PAGE_END, SERVER_END } from "../src/control-pipe.ts";
import { ProtocolError } from "../src/errors.ts";
import { DEFAULT_SETTINGS } from "../src/messages.ts";
import { ControlMessageReader, MAX_SERVER_TEXT_CHARS, frameControlMessage } from "../src/wt-protocol.ts";

/** A stream pair whose readable yields `chunks` then ends, and whose writable records what was written. */
function streamOf(chunks: Uint8Array[]) {
  const written: Uint8Array[] = [];
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  const writable = new WritableStream<Uint8Array>({ write: (c) => void written.push(c) });
  return { stream: { readable, writable }, written };
}

async function readAll<T>(pipe: ControlPipe<T, never>): Promise<T[]> {
  const got: T[] = [];
  for await (const m of pipe.messages()) got.push(m);
  return got;
}

describe("ControlPipe", () => {
  test("page end: yields validated server messages across chunk boundaries and frames client messages", async () => {
    const bytes = [
      ...frameControlMessage({ type: "session", sessionId: "A".repeat(22), settings: DEFAULT_SETTINGS }),
      ...frameControlMessage({ type: "answer", sdp: "v=0" }),
    ];
    const { stream, written } = streamOf([new Uint8Array(bytes.slice(0, 3)), new Uint8Array(bytes.slice(3, 40)), new Uint8Array(bytes.slice(40))]);
    const pipe = new ControlPipe(stream, PAGE_END);
    await pipe.send({ type: "control", fps: 60 });
    expect(new ControlMessageReader().push(written[0]!)).toEqual([{ type: "control", fps: 60 }]);
    expect((await readAll(pipe)).map((m) => m.type)).toEqual(["session", "answer"]);
  });

  test("server end: yields client messages; a reply too long is cut, not thrown", async () => {
    const { stream, written } = streamOf([frameControlMessage({ type: "stop" })]);
    const pipe = new ControlPipe(stream, SERVER_END);
    expect(await readAll(pipe)).toEqual([{ type: "stop" }]);
    await pipe.send({ type: "error", code: "x", message: "m".repeat(MAX_SERVER_TEXT_CHARS + 50) });
    const [reply] = new ControlMessageReader().push(written[0]!) as { message: string }[];
    expect(reply!.message.length).toBeLessThanOrEqual(MAX_SERVER_TEXT_CHARS);
  });

  test("throws ProtocolError on a message of the wrong direction or a stream that ends inside a message", async () => {
    expect(readAll(new ControlPipe(streamOf([frameControlMessage({ type: "stop" })]).stream, PAGE_END))).rejects.toThrow(/unknown message type/);
    const cut = frameControlMessage({ type: "stop" }).subarray(0, 6);
    const error = await readAll(new ControlPipe(streamOf([cut]).stream, SERVER_END)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(String(error)).toMatch(/ended inside a message \(6 bytes\)/);
  });

  test("close ends the writable and cancels reading, never rejects (also twice); send afterwards rejects", async () => {
    let closed = 0;
    let cancelled = 0;
    const readable = new ReadableStream<Uint8Array>({ cancel: () => void cancelled++ });
    const writable = new WritableStream<Uint8Array>({ close: () => void closed++ });
    const pipe = new ControlPipe({ readable, writable }, PAGE_END);
    await pipe.close();
    await pipe.close();
    expect([closed, cancelled]).toEqual([1, 1]);
    expect(pipe.send({ type: "stop" })).rejects.toThrow();
    expect(await readAll(pipe)).toEqual([]);
  });
});
