/**
 * The generator service: starts a session (one worker thread drawing its frames) for each start request on
 * `subjects.generatorStart` (queue group `generator`, so replicas share the load), and ends it on request, on
 * `ended`, on heartbeat timeout or when its worker dies.
 */
import {
  type Bus,
  type FrameCompression,
  type Logger,
  type Registry,
  FRAME_COMPRESSIONS,
  ProtocolError,
  QUEUE,
  SESSION_TIMING,
  createGeneratorMetrics,
  defaultRegistry,
  MIN_FRAME_MESSAGE_BYTES,
  intEnv,
  parseStartSessionRequest,
  serveJson,
  stringEnv,
  subjects,
} from "@ballstream/shared";
import { GeneratorSession } from "./session.ts";

/** Settings of the generator service. */
export interface GeneratorConfig {
  /** A session with no heartbeat for this long is ended. */
  readonly heartbeatTimeoutMs: number;
  /** Start requests beyond this many running sessions are refused (`unavailable`). */
  readonly maxSessions: number;
  /**
   * How frames carry their pixels: `none` on the in-process bus (messages passed by reference, compressing only
   * costs time), `zstd` over NATS (main.ts's default: ~500× fewer bytes through the server).
   */
  readonly frameCompression: FrameCompression;
}

/** Defaults of {@link GeneratorConfig}. */
export const DEFAULT_GENERATOR_CONFIG: GeneratorConfig = {
  heartbeatTimeoutMs: SESSION_TIMING.heartbeatTimeoutMs,
  maxSessions: 16,
  frameCompression: "none",
};

/**
 * Reads the generator's settings for a standalone run over NATS: HEARTBEAT_TIMEOUT_MS, MAX_SESSIONS and
 * FRAME_COMPRESSION (`zstd` | `none`; default `zstd`, since frames then cross the network). Throws on bad values.
 */
export function generatorConfigFromEnv(env: Record<string, string | undefined>): GeneratorConfig {
  const frameCompression = stringEnv(env, "FRAME_COMPRESSION", "zstd");
  if (!FRAME_COMPRESSIONS.includes(frameCompression as FrameCompression)) {
    throw new Error(`FRAME_COMPRESSION must be one of ${FRAME_COMPRESSIONS.join(", ")}, got ${frameCompression}`);
  }
  return {
    frameCompression: frameCompression as FrameCompression,
    heartbeatTimeoutMs: intEnv(env, "HEARTBEAT_TIMEOUT_MS", DEFAULT_GENERATOR_CONFIG.heartbeatTimeoutMs, 100, 600_000),
    maxSessions: intEnv(env, "MAX_SESSIONS", DEFAULT_GENERATOR_CONFIG.maxSessions, 1, 1000),
  };
}

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
  /** Ends every session (workers terminated) and stops taking requests. Does not drain the bus. */
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
  let stopping: Promise<void> | undefined;

  const startSub = serveJson(
    bus,
    subjects.generatorStart,
    parseStartSessionRequest,
    ({ sessionId, settings }) => {
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
        onEnded: (s) => {
          if (sessions.get(s.id) === s) sessions.delete(s.id);
        },
      });
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
        startSub.unsubscribe();
        await Promise.all([...sessions.values()].map((s) => s.stop("generator stopping")));
        log.info("generator stopped");
      })()),
  };
}
