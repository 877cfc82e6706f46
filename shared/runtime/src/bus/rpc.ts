/** JSON request/reply over the bus with the {@link Reply} envelope: typed errors cross process boundaries. */
import type { Bus, BusMessage, BusSubscription, SubscribeOptions } from "./bus.ts";
import { BusError } from "./bus.ts";
import { ProtocolError, decodeJson, encodeJson, asObject } from "@ballstream/protocol";
import type { Reply } from "@ballstream/protocol";
import { inBackground } from "../lifecycle.ts";
import type { Logger } from "../log.ts";

/**
 * Sends `request` as JSON and returns the validated `value` of the reply. Throws {@link ProtocolError}: the
 * responder's own error, `timeout`/`unavailable` when nobody answers, `bad_request` for a malformed reply.
 */
export async function requestJson<T>(bus: Bus, subject: string, request: unknown, parse: (value: unknown) => T, timeoutMs: number): Promise<T> {
  let msg: BusMessage;
  try {
    msg = await bus.request(subject, encodeJson(request), { timeoutMs });
  } catch (err) {
    if (err instanceof BusError) {
      throw new ProtocolError(err.code === "timeout" ? "timeout" : "unavailable", `${subject}: ${err.message}`);
    }
    throw err;
  }
  const reply = asObject(decodeJson(msg.data), "reply");
  if (reply.ok === true) return parse(reply.value);
  const error = asObject(reply.error, "reply.error");
  throw new ProtocolError((typeof error.code === "string" ? error.code : "internal") as ProtocolError["code"], String(error.message ?? "unknown error"));
}

/**
 * Answers JSON requests on `subject`: `handle` gets the validated request and returns the reply value. Any
 * thrown {@link ProtocolError} becomes an error reply with its code; anything else an `internal` error reply.
 */
export function serveJson<Req, Res>(
  bus: Bus,
  subject: string,
  parse: (value: unknown) => Req,
  handle: (request: Req, msg: BusMessage) => Promise<Res> | Res,
  log: Logger,
  options: SubscribeOptions = {},
): BusSubscription {
  return bus.subscribe(
    subject,
    (msg) => {
      const answering = (async () => {
        let reply: Reply<Res>;
        try {
          reply = { ok: true, value: await handle(parse(decodeJson(msg.data)), msg) };
        } catch (err) {
          if (err instanceof ProtocolError) reply = { ok: false, error: { code: err.code, message: err.message } };
          else {
            log.error({ err, subject }, "request handler failed");
            reply = { ok: false, error: { code: "internal", message: "internal error" } };
          }
        }
        try {
          msg.respond(encodeJson(reply));
        } catch (err) {
          log.warn({ err, subject }, "could not send reply");
        }
      })();
      inBackground(log, `answering ${subject}`, answering);
    },
    options,
  );
}
