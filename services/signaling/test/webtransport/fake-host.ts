/** Test helper: a session's connection in memory, with stream headers and ids from a real state machine. */
import { Http3Machine } from "../../src/webtransport/h3-machine.ts";
import type { SessionHost } from "../../src/webtransport/session.ts";
import type { IncomingStream } from "../../src/webtransport/streams.ts";
import type { WebTransportCloseInfo } from "../../src/webtransport/types.ts";

/** Identity of the test session: session id 0. */
export const SESSION_INFO = { id: "c/0", streamId: 0, path: "/wt", origin: "http://x", remoteAddress: "127.0.0.1:1" };

/** Records what sessions ask of their connection; every write is taken whole. */
export class FakeHost implements SessionHost {
  written = new Map<number, number[]>();
  fins = new Set<number>();
  resets: [number, number][] = [];
  datagrams: Uint8Array[] = [];
  closes: WebTransportCloseInfo[] = [];
  ended: number[] = [];
  machine = new Http3Machine(4096);
  send(id: number, data: Uint8Array, fin: boolean): number {
    this.written.set(id, [...(this.written.get(id) ?? []), ...data]);
    if (fin) this.fins.add(id);
    return data.length;
  }
  waitWritable(): Promise<void> {
    return Promise.resolve();
  }
  resetStream(id: number, code: number): void {
    this.resets.push([id, code]);
  }
  stopSending(): void {}
  resumeRead(): void {}
  openStream(sessionId: number, bidirectional: boolean) {
    return this.machine.openStream(sessionId, bidirectional);
  }
  attachIncoming(_id: number, _incoming: IncomingStream): void {}
  sendDatagram(_session: number, payload: Uint8Array): boolean {
    this.datagrams.push(payload);
    return true;
  }
  maxDatagramPayload(): number {
    return 100;
  }
  closeSession(_id: number, info: WebTransportCloseInfo): void {
    this.closes.push(info);
  }
  sessionEnded(id: number): void {
    this.ended.push(id);
  }
}

