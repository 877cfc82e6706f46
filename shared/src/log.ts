/**
 * The one logger all services use: structured JSON lines (pino) with `service` and, where known, `sessionId`
 * fields; human-readable output when stdout is a terminal. Level from `LOG_LEVEL` (default `info`).
 */
import pino from "pino";
import pretty from "pino-pretty";

/** A structured logger; `child({ sessionId })` adds fields to every line. */
export type Logger = pino.Logger;

/** Options of {@link createLogger}; by default they come from the environment. */
export interface LoggerOptions {
  readonly level?: string;
  readonly pretty?: boolean;
  /** Where JSON lines go (default stdout); tests pass a collecting stream. */
  readonly destination?: pino.DestinationStream;
}

/** Creates the logger of one service. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  const base = { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime };
  if (options.destination) return pino(base, options.destination);
  const usePretty = options.pretty ?? (process.stdout.isTTY === true && process.env.LOG_FORMAT !== "json");
  return usePretty ? pino(base, pretty({ colorize: true, sync: true })) : pino(base, pino.destination({ sync: true }));
}
