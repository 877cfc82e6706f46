/** quiche's stream errors as WebTransport errors: quiche reports a peer's reset or stop only in its message text. */
import { WebTransportError, http3CodeToWebTransport } from "./errors.ts";

/** Extracts n from quiche's "StreamReset(n)" / "StreamStopped(n)" error messages; null for other errors. */
export function parseQuicheStreamCode(message: string): number | null {
  const match = /Stream(?:Reset|Stopped)\((\d{1,16})\)/.exec(message);
  return match ? Number(match[1]) : null;
}

/** Maps a quiche stream failure ("StreamStopped(n)" and others) to a WebTransportError with the peer's code. */
export function streamFailure(error: unknown): WebTransportError {
  const message = (error as Error).message ?? String(error);
  const h3Code = parseQuicheStreamCode(message);
  if (h3Code === null) return new WebTransportError(`stream failed: ${message}`, "stream");
  const code = http3CodeToWebTransport(h3Code);
  return new WebTransportError(`stream stopped by peer (code ${code ?? `h3 0x${h3Code.toString(16)}`})`, "stream", code);
}
