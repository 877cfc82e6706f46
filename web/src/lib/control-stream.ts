/**
 * The page's end of the control stream: the shared {@link ControlPipe} with the page's direction
 * ({@link PAGE_END}): {@link ClientMessage}s out, validated {@link ServerMessage}s in.
 */
import { type ByteStreamPair, ControlPipe, PAGE_END } from "@ballstream/protocol";
import type { ClientMessage, ServerMessage } from "@ballstream/protocol";

/** Sends and receives control messages on one stream. */
export class ControlStream extends ControlPipe<ServerMessage, ClientMessage> {
  constructor(stream: ByteStreamPair) {
    super(stream, PAGE_END);
  }
}
