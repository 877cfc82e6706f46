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
  DEFAULT_SETTINGS,
  FRAME_COMPRESSIONS,
  ProtocolError,
  QUEUE,
  SESSION_TIMING,
  type SessionSettings,
  createGeneratorMetrics,
  defaultRegistry,
  encodedFrameByteLength,
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

/** Throws {@link ProtocolError} `too_large` if frames of this size cannot travel on a bus with `maxPayload`. */
export function checkFrameFits(settings: Pick<SessionSettings, "width" | "height">, sessionIdLength: number, maxPayload: number): void {
  const bytes = encodedFrameByteLength(settings.width, settings.height, sessionIdLength);
  if (bytes > maxPayload) {
    throw new ProtocolError(
      "too_large",
      `a ${settings.width}x${settings.height} frame takes ${bytes} bytes but the bus carries at most ${maxPayload} (NATS max_payload)`,
    );
  }
}

/** Starts serving generator requests on `bus`. Throws if even a default-sized frame cannot fit the bus. */
export async function startGenerator(options: GeneratorOptions): Promise<GeneratorService> {
  const { bus } = options;
  const config = { ...DEFAULT_GENERATOR_CONFIG, ...options.config };
  const log = options.log.child({ component: "generator" });
  checkFrameFits(DEFAULT_SETTINGS, 22, bus.maxPayload);
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
      checkFrameFits(settings, sessionId.length, bus.maxPayload);
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
