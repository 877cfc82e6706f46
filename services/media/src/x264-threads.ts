/**
 * The in-process encoder backend: libx264 (x264.ts) on a few worker threads of media's, each running the x264s of
 * some sessions, so encoding never blocks media's event loop (where every session's packets, ICE and DTLS run) and
 * sessions spread over the cores as ffmpeg processes did. Each instance's picture lives in a SharedArrayBuffer the
 * thread was given once: a frame is one copy into it and a message of a few numbers, and its access unit comes back
 * as a transferred buffer (a frame's buffer transferred each way cost ~0.1 ms more CPU a frame; docs/media.md,
 * "x264 in the process"). A new session's x264 goes to
 * the thread with the fewest; a thread that dies ends its sessions' instances (each session restarts its own); a
 * thread without instances for {@link IDLE_THREAD_MS} ends, so a service with no sessions holds no encoder thread.
 */
import { type Frame, type Logger, i420ByteLength } from "@ballstream/runtime";
import { splitAnnexB } from "./annexb.ts";
import type { EncoderBackend, EncoderInstance, EncoderSink } from "./encoder.ts";
import type { EncoderFormat, X264Settings } from "./encoder-settings.ts";
import { type FlatPicture, changedRects } from "./unchanged-macroblocks.ts";

/** What media's event loop sends an encoder thread. */
export type ToEncoderThread =
  | { readonly op: "open"; readonly id: number; readonly format: EncoderFormat; readonly x264: X264Settings; readonly picture: SharedArrayBuffer }
  /** `changed`: the rectangles that may differ from the instance's last picture ({@link changedRects}), null: all of it. */
  | { readonly op: "encode"; readonly id: number; readonly length: number; readonly idr: boolean; readonly changed: readonly number[] | null }
  | { readonly op: "bitrate"; readonly id: number; readonly kbps: number }
  | { readonly op: "close"; readonly id: number };

/** What an encoder thread answers; either answer to an `encode` frees the instance's picture for the next frame. */
export type FromEncoderThread =
  | { readonly op: "unit"; readonly id: number; readonly data: ArrayBuffer; readonly keyframe: boolean }
  | { readonly op: "error"; readonly id: number; readonly message: string };

/** How long a thread without instances is kept for the next session (a new thread takes ~20–50 ms to start). */
export const IDLE_THREAD_MS = 5000;

/** One worker thread and the instances on it. */
interface EncoderThread {
  readonly worker: Worker;
  readonly instances: Map<number, X264Instance>;
  /** Ends the thread if it is still idle {@link IDLE_THREAD_MS} after its last instance ended. */
  idleTimer: ReturnType<typeof setTimeout> | null;
}

/** libx264 on `threads` worker threads (started on first use, ended by {@link close}). */
export class X264Threads implements EncoderBackend {
  readonly name = "x264";
  readonly inPlace = true;
  readonly threads: number;
  readonly #log: Logger;
  readonly #script: string;
  readonly #idleMs: number;
  readonly #running: EncoderThread[] = [];
  #nextId = 1;
  #closed = false;

  /** `script` is the thread's code (x264-thread.ts; tests give one that fails). */
  constructor(threads: number, log: Logger, script = new URL("./x264-thread.ts", import.meta.url).href, idleMs = IDLE_THREAD_MS) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`encoder threads: ${threads} (at least 1)`);
    this.threads = threads;
    this.#log = log;
    this.#script = script;
    this.#idleMs = idleMs;
  }

  /** Opens an x264 for `format` on the thread with the fewest; its units and its failure come through `sink`. */
  start(format: EncoderFormat, x264: X264Settings, sink: EncoderSink): EncoderInstance {
    if (this.#closed) throw new Error("the encoder threads are closed");
    const thread = this.#least();
    const picture = new SharedArrayBuffer(i420ByteLength(format.width, format.height));
    const instance = new X264Instance(this.#nextId++, thread, picture, sink, () => this.#released(thread));
    thread.instances.set(instance.id, instance);
    if (thread.idleTimer !== null) clearTimeout(thread.idleTimer);
    thread.idleTimer = null;
    post(thread, { op: "open", id: instance.id, format, x264, picture });
    return instance;
  }

  /** How many x264s each running thread holds (for tests and logs). */
  get load(): number[] {
    return this.#running.map((t) => t.instances.size);
  }

  /** Ends every thread; their instances report an exit. Later starts throw. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = this.#running.splice(0);
    for (const thread of threads) this.#lost(thread, "the encoder threads were closed");
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** The thread with the fewest instances; a new one while fewer than `threads` run and every running one is busy. */
  #least(): EncoderThread {
    const idle = this.#running.find((t) => t.instances.size === 0);
    if (idle !== undefined) return idle;
    if (this.#running.length < this.threads) return this.#spawn();
    return this.#running.reduce((a, b) => (b.instances.size < a.instances.size ? b : a));
  }

  #spawn(): EncoderThread {
    const worker = new Worker(this.#script);
    (worker as Worker & { unref(): void }).unref(); // an idle thread must not keep the process alive; its sessions' timers and sockets do
    const thread: EncoderThread = { worker, instances: new Map(), idleTimer: null };
    worker.onmessage = (event: MessageEvent<FromEncoderThread>) => thread.instances.get(event.data.id)?.answer(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#log.error({ message: event.message }, "encoder thread failed; its sessions restart their encoders");
      this.#drop(thread);
      void worker.terminate();
    };
    worker.addEventListener("close", () => this.#drop(thread));
    this.#running.push(thread);
    this.#log.debug({ threads: this.#running.length }, "encoder thread started");
    return thread;
  }

  /** An instance on `thread` ended: an idle thread ends after {@link IDLE_THREAD_MS} unless a new instance comes. */
  #released(thread: EncoderThread): void {
    if (thread.instances.size > 0 || thread.idleTimer !== null || !this.#running.includes(thread)) return;
    thread.idleTimer = setTimeout(() => {
      thread.idleTimer = null;
      if (thread.instances.size > 0) return;
      this.#drop(thread);
      void thread.worker.terminate();
      this.#log.debug({ threads: this.#running.length }, "idle encoder thread ended");
    }, this.#idleMs);
    (thread.idleTimer as { unref?: () => void }).unref?.();
  }

  /** A thread is gone: it takes no more instances, and its instances report it. */
  #drop(thread: EncoderThread): void {
    if (thread.idleTimer !== null) clearTimeout(thread.idleTimer);
    thread.idleTimer = null;
    const at = this.#running.indexOf(thread);
    if (at !== -1) this.#running.splice(at, 1);
    this.#lost(thread, "its encoder thread died");
  }

  #lost(thread: EncoderThread, message: string): void {
    for (const instance of [...thread.instances.values()]) instance.lost(message);
    thread.instances.clear();
  }
}

function post(thread: EncoderThread, message: ToEncoderThread, transfer: ArrayBuffer[] = []): void {
  thread.worker.postMessage(message, transfer);
}

/** One session's x264 on a thread: a frame is copied into the picture both share, one at a time. */
class X264Instance implements EncoderInstance {
  readonly id: number;
  readonly #thread: EncoderThread;
  readonly #picture: Uint8Array;
  readonly #sink: EncoderSink;
  readonly #onEnd: () => void;
  /** A frame is in the shared picture, not answered yet: the picture must not change. */
  #busy = false;
  /** The last frame written, as far as its flat region goes: what the next frame's unchanged macroblocks are counted against. */
  #last: FlatPicture | undefined;
  #ended = false;

  constructor(id: number, thread: EncoderThread, picture: SharedArrayBuffer, sink: EncoderSink, onEnd: () => void) {
    this.id = id;
    this.#thread = thread;
    this.#picture = new Uint8Array(picture);
    this.#sink = sink;
    this.#onEnd = onEnd;
  }

  /** Copies the frame into the shared picture and asks for its unit; throws while the last frame is unanswered (SessionEncoder drops, never queues) or when the frame does not fit the format. */
  write(frame: Frame, idr: boolean): void {
    if (this.#ended) throw new Error("x264 instance ended");
    if (this.#busy) throw new Error("x264: the last frame is still on the encoder thread");
    const length = frame.pixels.length;
    if (length > this.#picture.length) throw new RangeError(`x264: a ${length}-byte frame for a ${this.#picture.length}-byte picture`);
    this.#picture.set(frame.pixels);
    this.#busy = true;
    const changed = changedRects(this.#last, frame);
    this.#last = { width: frame.width, height: frame.height, ...(frame.flat ? { flat: frame.flat } : {}) };
    post(this.#thread, { op: "encode", id: this.id, length, idr, changed });
  }

  setBitrate(kbps: number): void {
    if (this.#ended) throw new Error("x264 instance ended");
    post(this.#thread, { op: "bitrate", id: this.id, kbps });
  }

  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#thread.instances.delete(this.id);
    post(this.#thread, { op: "close", id: this.id });
    this.#onEnd();
  }

  /** The thread's answer for this instance. */
  answer(message: FromEncoderThread): void {
    this.#busy = false;
    if (this.#ended) return;
    if (message.op === "error") {
      void this.end();
      this.#sink.exit(message.message);
      return;
    }
    this.#sink.unit({ nals: splitAnnexB(new Uint8Array(message.data)), keyframe: message.keyframe });
  }

  /** Its thread is gone. */
  lost(message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#sink.exit(message);
  }
}
