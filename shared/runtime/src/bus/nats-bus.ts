/**
 * The {@link Bus} over a real nats-server, through the maintained v3 client. One connection per process:
 * reconnects for ever with exponential backoff (logging each disconnect and reconnect), takes its payload limit
 * from the server's INFO, maps client errors to {@link BusError} codes and drains on shutdown. While disconnected,
 * publishes are dropped and counted (the v3 client discards its outbound buffer on every dial anyway), which is
 * NATS core's at-most-once promise; subscriptions are restored by the client on reconnect.
 */
import { connect } from "@nats-io/transport-node";
import { DrainingConnectionError, ClosedConnectionError, errors, RequestError, TimeoutError } from "@nats-io/nats-core";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import type { Bus, BusMessage, BusSubscription, RequestOptions, SubscribeOptions } from "./bus.ts";
import { BusError, checkSubject } from "./bus.ts";
import { inBackground } from "../lifecycle.ts";
import type { Logger } from "../log.ts";

/** Options of {@link connectNatsBus}. */
export interface NatsBusOptions {
  /** Server URL, e.g. `nats://127.0.0.1:4222` (comma-separated for several servers). */
  readonly url: string;
  /** Client name shown by the server's monitoring (the service name). */
  readonly name: string;
  readonly log: Logger;
  /** First reconnect delay; doubles per failed attempt up to {@link reconnectMaxMs}. Default 250 ms. */
  readonly reconnectMinMs?: number;
  /** Longest reconnect delay. Default 5 s. */
  readonly reconnectMaxMs?: number;
  /** Client ping interval, which bounds how long a dead (half-open) connection goes unnoticed. Default 10 s. */
  readonly pingIntervalMs?: number;
  /** Give up on the first connection after this long. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Credentials the server asks for (deploy/ runs NATS with a user and password); none by default. */
  readonly auth?: NatsAuth;
}

/** NATS credentials: a user and password, or a token. */
export type NatsAuth = { readonly user: string; readonly pass: string } | { readonly token: string };

/**
 * Reads NATS_USER + NATS_PASSWORD (both or neither) or NATS_TOKEN; undefined when none is set. Throws on a user
 * without a password (or the reverse) and on a token together with a user.
 */
export function natsAuthFromEnv(env: Record<string, string | undefined>): NatsAuth | undefined {
  const [user, pass, token] = ["NATS_USER", "NATS_PASSWORD", "NATS_TOKEN"].map((name) => env[name]?.trim() ?? "");
  if ((user === "") !== (pass === "")) throw new Error("NATS_USER and NATS_PASSWORD must be set together");
  if (token !== "" && user !== "") throw new Error("set NATS_TOKEN or NATS_USER/NATS_PASSWORD, not both");
  if (user !== "") return { user: user as string, pass: pass as string };
  return token === "" ? undefined : { token: token as string };
}

/** Maps an error of the NATS client to a {@link BusError} (other errors pass through unchanged). */
export function toBusError(err: unknown, subject: string): unknown {
  if (err instanceof BusError) return err;
  if (err instanceof TimeoutError) return new BusError("timeout", `request on ${subject} timed out`);
  if (err instanceof errors.NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
    return new BusError("no_responders", `no responders on ${subject}`);
  }
  if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError) {
    return new BusError("closed", `bus is closed (${subject})`);
  }
  if (err instanceof errors.InvalidSubjectError) return new BusError("bad_subject", `invalid subject "${subject}"`);
  if (err instanceof errors.InvalidArgumentError && /max_payload/.test(err.message)) {
    return new BusError("too_large", `message on ${subject} exceeds the server's max_payload`);
  }
  return err;
}

/** The delay before reconnect attempt `attempt` (0-based): exponential from `minMs` to `maxMs`, plus ≤ 10 % jitter. */
export function reconnectDelayMs(attempt: number, minMs: number, maxMs: number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base + Math.random() * base * 0.1);
}

class NatsBus implements Bus {
  #nc: NatsConnection;
  #log: Logger;
  #connected = true;
  #droppedWhileDown = 0;
  #lastMaxPayload: number;

  constructor(nc: NatsConnection, log: Logger) {
    this.#nc = nc;
    this.#log = log;
    this.#lastMaxPayload = nc.info?.max_payload ?? 0;
  }

  /** The connected server's max_payload (the last known one while reconnecting). */
  get maxPayload(): number {
    const max = this.#nc.info?.max_payload;
    if (max !== undefined) this.#lastMaxPayload = max;
    return this.#lastMaxPayload;
  }

  get closed(): boolean {
    return this.#nc.isClosed() || this.#nc.isDraining();
  }

  /** Connection state, fed by the status watcher. */
  setConnected(connected: boolean): number {
    this.#connected = connected;
    const dropped = this.#droppedWhileDown;
    if (connected) this.#droppedWhileDown = 0;
    return dropped;
  }

  publish(subject: string, data: Uint8Array): void {
    this.#checkPublish(subject, data);
    if (!this.#connected) {
      this.#droppedWhileDown++;
      return;
    }
    try {
      this.#nc.publish(subject, data);
    } catch (err) {
      throw toBusError(err, subject);
    }
  }

  subscribe(subject: string, handler: (msg: BusMessage) => void, options: SubscribeOptions = {}): BusSubscription {
    if (this.closed) throw new BusError("closed", "bus is closed");
    checkSubject(subject, true);
    let active = true;
    const sub = this.#nc.subscribe(subject, {
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      callback: (err, msg) => {
        if (err || !active) return;
        try {
          handler(this.#wrap(msg));
        } catch (error) {
          this.#log.error({ err: error, subject: msg.subject }, "bus handler threw");
        }
      },
    });
    return {
      subject,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        if (!this.#nc.isClosed()) sub.unsubscribe();
      },
    };
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    this.#checkPublish(subject, data);
    try {
      return this.#wrap(await this.#nc.request(subject, data, { timeout: options.timeoutMs }));
    } catch (err) {
      throw toBusError(err, subject);
    }
  }

  async drain(): Promise<void> {
    if (this.#nc.isClosed()) return;
    if (this.#nc.isDraining()) {
      await this.#nc.closed();
      return;
    }
    await this.#nc.drain();
  }

  #checkPublish(subject: string, data: Uint8Array): void {
    if (this.closed) throw new BusError("closed", "bus is closed");
    checkSubject(subject, false);
    const max = this.maxPayload;
    if (max > 0 && data.length > max) {
      throw new BusError("too_large", `message of ${data.length} bytes on ${subject} exceeds the server's max_payload ${max}`);
    }
  }

  #wrap(msg: Msg): BusMessage {
    return {
      subject: msg.subject,
      data: msg.data,
      respond: (reply: Uint8Array) => {
        if (!msg.reply) return false;
        this.publish(msg.reply, reply);
        return true;
      },
    };
  }
}

/**
 * Connects to NATS and returns the bus. Rejects with a clear error if the first connection fails (the server is
 * down or the URL is wrong); after that, connection losses are retried for ever and logged.
 */
export async function connectNatsBus(options: NatsBusOptions): Promise<Bus> {
  const log = options.log.child({ component: "nats" });
  const minMs = options.reconnectMinMs ?? 250;
  const maxMs = options.reconnectMaxMs ?? 5000;
  let attempt = 0;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(",").map((s) => s.trim()),
      name: options.name,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => reconnectDelayMs(attempt, minMs, maxMs),
      pingInterval: options.pingIntervalMs ?? 10_000,
      maxPingOut: 3,
      timeout: options.connectTimeoutMs ?? 5000,
      ...options.auth,
    });
  } catch (err) {
    throw new BusError("closed", `cannot connect to NATS at ${options.url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const bus = new NatsBus(nc, log);
  log.info({ server: nc.getServer(), version: nc.info?.version, maxPayload: bus.maxPayload }, "connected to NATS");
  const watching = (async () => {
    let downSince = 0;
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          downSince = performance.now();
          bus.setConnected(false);
          log.warn({ server: s.server }, "disconnected from NATS; reconnecting");
          break;
        case "reconnecting":
          attempt++;
          log.debug({ attempt }, "reconnecting to NATS");
          break;
        case "reconnect": {
          const dropped = bus.setConnected(true);
          log.info({ server: s.server, attempts: attempt, downMs: Math.round(performance.now() - downSince), droppedMessages: dropped }, "reconnected to NATS");
          attempt = 0;
          break;
        }
        case "error":
          log.error({ err: s.error }, "NATS error");
          break;
        case "staleConnection":
          log.warn("NATS connection is stale; reconnecting");
          break;
        case "ldm":
          log.warn({ server: s.server }, "NATS server entering lame-duck mode");
          break;
        default:
          break;
      }
    }
  })();
  inBackground(log, "watching the NATS connection status", watching);
  inBackground(
    log,
    "watching the NATS connection close",
    nc.closed().then((err) => {
      if (err) log.error({ err }, "NATS connection closed with an error");
      else log.info("NATS connection closed");
    }),
  );
  return bus;
}
