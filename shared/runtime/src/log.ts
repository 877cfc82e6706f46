/**
 * The one logger all services use: structured JSON lines (pino), each with `level` (a name such as `"info"`),
 * `time` (ISO 8601), `service`, `msg` and, on a session's child logger, `sessionId`. Human-readable output when
 * stdout is a terminal (`LOG_FORMAT=json` forces JSON there, `LOG_FORMAT=pretty` forces pretty elsewhere). Level
 * from `LOG_LEVEL` (default `info`). Fields that may hold secrets (TLS keys, passwords, tokens, SDP with its ICE
 * credentials) are replaced by `[redacted]`, see {@link REDACTED_PATHS}. Every string in a line (message, fields,
 * error messages) is capped at {@link MAX_LOG_STRING} characters, so client-supplied text cannot flood the log.
 */
import pino from "pino";
import pretty from "pino-pretty";

/** A structured logger; `child({ sessionId })` adds fields to every line. */
export type Logger = pino.Logger;

/** The levels `LOG_LEVEL` accepts, most to least severe (`silent` logs nothing). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** The text that replaces a redacted value. */
export const REDACTED = "[redacted]";

const SECRET_KEYS = ["key", "keyPem", "privateKey", "password", "passphrase", "secret", "token", "authorization", "cookie", "credentials", "sdp"];

/** Field paths never logged as they are: each secret key at the top level, one level down and in `headers`. */
export const REDACTED_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.headers.${k}`]);

/** Longest string a log line carries per field; longer ones are cut and marked (a stack gets 4× as much). */
export const MAX_LOG_STRING = 512;

/** Cuts `s` to `max` characters plus a marker saying how many were dropped; shorter strings pass unchanged. */
export function capString(s: string, max = MAX_LOG_STRING): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[${s.length - max} more chars]`;
}

/**
 * `value` with every string in it capped by {@link capString}, in plain objects and arrays (8 levels deep); a field
 * named `stack` keeps 4 × `max`. Anything else passes unchanged.
 */
export function capLogStrings(value: unknown, max = MAX_LOG_STRING, depth = 0): unknown {
  if (typeof value === "string") return capString(value, max);
  if (depth >= 8 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => capLogStrings(v, max, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === "stack" && typeof v === "string" ? capString(v, 4 * max) : capLogStrings(v, max, depth + 1);
  return out;
}

/** One written JSON line with its strings capped; a line shorter than the cap cannot hold a long string and is kept. */
export function capLogLine(line: string, max = MAX_LOG_STRING): string {
  if (line.length <= max) return line;
  return `${JSON.stringify(capLogStrings(JSON.parse(line), max))}\n`;
}

/** Options of {@link createLogger}; by default they come from the environment. */
export interface LoggerOptions {
  readonly level?: string;
  readonly pretty?: boolean;
  /** Where JSON lines go (default stdout); tests pass a collecting stream. */
  readonly destination?: pino.DestinationStream;
}

/** Checks a level name, with an error naming `LOG_LEVEL`. */
export function parseLogLevel(raw: string): pino.LevelWithSilent {
  const level = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`LOG_LEVEL=${raw}: expected one of ${LOG_LEVELS.join(", ")}`);
  return level as pino.LevelWithSilent;
}

/** Creates the logger of one service. Throws on an unknown level. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const config: pino.LoggerOptions = {
    level: parseLogLevel(options.level ?? process.env.LOG_LEVEL ?? "info"),
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // On the finished line: it covers the message, fields, child bindings and serialized errors alike.
    hooks: { streamWrite: (line) => capLogLine(line) },
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
  };
  if (options.destination) return pino(config, options.destination);
  const format = process.env.LOG_FORMAT;
  const usePretty = options.pretty ?? (format === "pretty" || (process.stdout.isTTY === true && format !== "json"));
  return usePretty ? pino(config, pretty({ colorize: process.stdout.isTTY === true, sync: true })) : pino(config, pino.destination({ sync: true }));
}
