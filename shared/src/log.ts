/**
 * The one logger all services use: structured JSON lines (pino), each with `level` (a name such as `"info"`),
 * `time` (ISO 8601), `service`, `msg` and, on a session's child logger, `sessionId`. Human-readable output when
 * stdout is a terminal (`LOG_FORMAT=json` forces JSON there, `LOG_FORMAT=pretty` forces pretty elsewhere). Level
 * from `LOG_LEVEL` (default `info`). Fields that may hold secrets (TLS keys, passwords, tokens, SDP with its ICE
 * credentials) are replaced by `[redacted]`, see {@link REDACTED_PATHS}.
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
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
  };
  if (options.destination) return pino(config, options.destination);
  const format = process.env.LOG_FORMAT;
  const usePretty = options.pretty ?? (format === "pretty" || (process.stdout.isTTY === true && format !== "json"));
  return usePretty ? pino(config, pretty({ colorize: process.stdout.isTTY === true, sync: true })) : pino(config, pino.destination({ sync: true }));
}
