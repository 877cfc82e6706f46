/**
 * The generator service: starts a session (one worker thread drawing its frames) for each start request on
 * `subjects.generatorStart` (queue group `generator`, so replicas share the load), and ends it on request, on
 * `ended`, on heartbeat timeout or when its worker dies. A start with `resume` takes over another replica's session
 * (signaling's takeover of a silent generator, or a replica's hand-over as it stops).
 */
import { randomBytes } from "node:crypto";
import { type Bus, type Logger, type Registry, defaultRegistry, MIN_FRAME_MESSAGE_BYTES, serveJson } from "@ballstream/runtime";
import { createGeneratorMetrics } from "./metrics.ts";
import { ProtocolError, QUEUE, parseStartSessionRequest, subjects } from "@ballstream/protocol";
import { DEFAULT_GENERATOR_CONFIG, type GeneratorConfig } from "./config.ts";
import { GeneratorSession } from "./session.ts";

export { createGeneratorMetrics, type GeneratorMetrics } from "./metrics.ts";
export { DEFAULT_GENERATOR_CONFIG, type GeneratorConfig, generatorConfigFromEnv } from "./config.ts";

/** Options of {@link startGenerator}. */
export interface GeneratorOptions {
  readonly bus: Bus;
  readonly log: Logger;
  readonly config?: Partial<GeneratorConfig>;
  /** Where the generator's metrics go (default: the process-wide registry). */
  readonly registry?: Registry;
  /** The session worker script; tests substitute one that misbehaves. */
  readonly workerUrl?: URL;
}

/** A running generator. */
export interface GeneratorService {
  /** Ids of the running sessions. */
  sessionIds(): string[];
  /** Stops taking requests, then hands every session over to another replica (or ends it when there is none). Does not drain the bus. */
  stop(): Promise<void>;
}

/**
 * Starts serving generator requests on `bus`. Frames larger than the bus's max payload travel in chunks, so every
 * allowed size works on both buses; throws only if the bus cannot carry even a chunk.
 */
export async function startGenerator(options: GeneratorOptions): Promise<GeneratorService> {
  const { bus } = options;
  const config = { ...DEFAULT_GENERATOR_CONFIG, ...options.config };
  const log = options.log.child({ component: "generator" });
  if (bus.maxPayload < MIN_FRAME_MESSAGE_BYTES) {
    throw new Error(`the bus carries at most ${bus.maxPayload} bytes a message; frames need ${MIN_FRAME_MESSAGE_BYTES} (NATS max_payload)`);
  }
  const metrics = createGeneratorMetrics(options.registry ?? defaultRegistry);
  const workerUrl = options.workerUrl ?? new URL("./worker.ts", import.meta.url);
  const sessions = new Map<string, GeneratorSession>();
  const instance = randomBytes(9).toString("base64url");
  let stopping: Promise<void> | undefined;

  const startSub = serveJson(
    bus,
    subjects.generatorStart,
    parseStartSessionRequest,
    ({ sessionId, settings, resume, channel }) => {
      if (stopping) throw new ProtocolError("unavailable", "generator is shutting down");
      if (sessions.has(sessionId)) throw new ProtocolError("bad_request", `session ${sessionId} already exists`);
      if (sessions.size >= config.maxSessions) throw new ProtocolError("unavailable", `generator is at its limit of ${config.maxSessions} sessions`);
      const session = new GeneratorSession(sessionId, settings, {
        bus,
        log,
        metrics,
        heartbeatTimeoutMs: config.heartbeatTimeoutMs,
        frameCompression: config.frameCompression,
        workerUrl,
        instance,
        onEnded: (s) => {
          if (sessions.get(s.id) === s) sessions.delete(s.id);
        },
      }, { ...(resume ? { resume } : {}), ...(channel ? { channel } : {}) });
      sessions.set(sessionId, session);
      return session.settings;
    },
    log,
    { queue: QUEUE.generator },
  );
  log.info({ config }, "generator ready");

  return {
    sessionIds: () => [...sessions.keys()],
    stop: () =>
      (stopping ??= (async () => {
        startSub.unsubscribe(); // out of the queue group first, so the hand-overs go to other replicas
        const all = [...sessions.values()];
        const handedOver = (await Promise.all(all.map((s) => s.handOver()))).filter(Boolean).length;
        log.info({ sessions: all.length, handedOver }, "generator stopped");
      })()),
  };
}
