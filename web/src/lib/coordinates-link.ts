/**
 * The detection worker's own WebTransport connection to signaling: bound to the page's session by an `attach`
 * (its id and resumption token), it carries the session's coordinates datagrams straight from the worker, so a
 * detection leaves without waiting for the page's main thread (its rendering, its frame callbacks). Signaling's
 * error reports stay on the page's connection. Any failure leaves the page sending, as before (docs/web.md).
 */
import type { Coordinates } from "@ballstream/protocol";
import { ControlStream } from "./control-stream.ts";
import { errorText } from "./failures.ts";
import { ReportChannel } from "./report-channel.ts";

/** Where and as what the worker attaches: the page's WebTransport URL and options, its session and token. */
export interface AttachTarget {
  readonly url: string;
  readonly options: WebTransportOptions;
  readonly sessionId: string;
  readonly token: string;
}

/** An attached connection. */
export interface CoordinatesLink {
  /** Sends one frame's coordinates now; never waits and never throws. */
  send(coordinates: Coordinates): void;
  /** Resolves with why the connection ended (closed by signaling, lost, or {@link CoordinatesLink.close}). */
  readonly closed: Promise<string>;
  /** Closes the connection. */
  close(): void;
}

/** How long the connection and its `attached` answer may take before the page goes on sending. */
export const ATTACH_TIMEOUT_MS = 3000;

/** How long a failed attach waits for the server's close reason (it says why better than the step that failed). */
const CLOSE_REASON_WAIT_MS = 300;

/** Opens a connection to `target.url` and attaches it to the session; rejects with the reason it could not. */
export async function openCoordinatesLink(
  target: AttachTarget,
  connect: (url: string, options: WebTransportOptions) => WebTransport = (url, options) => new WebTransport(url, options),
  timeoutMs = ATTACH_TIMEOUT_MS,
): Promise<CoordinatesLink> {
  const transport = connect(target.url, target.options);
  const closed = transport.closed.then(
    (info) => `closed by the server${info.reason ? `: ${info.reason}` : ""}`,
    (e: unknown) => `lost (${errorText(e)})`,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    const control = await Promise.race([attach(transport, target), timeout, closed.then((why) => Promise.reject(new Error(why)))]);
    const datagrams = new ReportChannel(transport.datagrams);
    return {
      send: (coordinates) => datagrams.send(coordinates),
      closed,
      close: () => {
        void control.close().catch(() => undefined);
        transport.close();
      },
    };
  } catch (e) {
    // a refusal before any message closes the session with a reason, which may come a moment after the step it failed
    const why = e instanceof Refused ? null : await Promise.race([closed, new Promise<null>((resolve) => setTimeout(resolve, CLOSE_REASON_WAIT_MS, null))]);
    transport.close();
    throw new Error(why ?? errorText(e));
  } finally {
    clearTimeout(timer);
  }
}

/** The server answered the attach with an `error` message. */
class Refused extends Error {}

/** Sends the `attach` and waits for `attached`; throws {@link Refused} with the server's error otherwise. */
async function attach(transport: WebTransport, target: AttachTarget): Promise<ControlStream> {
  await transport.ready;
  const control = new ControlStream(await transport.createBidirectionalStream());
  await control.send({ type: "attach", sessionId: target.sessionId, token: target.token });
  for await (const m of control.messages()) {
    if (m.type === "attached" && m.sessionId === target.sessionId) return control;
    if (m.type === "error") throw new Refused(`${m.code}: ${m.message}`);
  }
  throw new Error("the server ended the control stream");
}
