/**
 * The page's control stream seen from signaling: the shared {@link ControlPipe} with signaling's direction
 * ({@link SERVER_END}): validated {@link ClientMessage}s in, {@link ServerMessage}s out (cut, never throwing).
 */
import { type ClientMessage, ControlPipe, SERVER_END, type ServerMessage } from "@ballstream/protocol";
import type { WebTransportBidirectionalStream } from "./webtransport/mod.ts";

/** One control stream: an async sequence of validated client messages, and a way to answer. */
export class ControlChannel extends ControlPipe<ClientMessage, ServerMessage> {
  constructor(stream: WebTransportBidirectionalStream) {
    super(stream, SERVER_END);
  }
}
