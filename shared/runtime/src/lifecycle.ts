/** Graceful shutdown shared by every entry point. */
import type { Logger } from "./log.ts";

/**
 * Runs `shutdown` once on the first SIGINT or SIGTERM, then exits 0 (1 if it threw). If it takes longer than
 * `graceMs`, exits 1 anyway so an orchestrator never waits on a hung process. Returns a function that removes
 * the handlers (for tests).
 */
export function onShutdownSignal(log: Logger, shutdown: (signal: string) => Promise<void>, graceMs = 2500): () => void {
  let started = false;
  const handler = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error({ graceMs }, "shutdown took too long; exiting");
      process.exit(1);
    }, graceMs);
    shutdown(signal).then(
      () => {
        clearTimeout(force);
        log.info("stopped");
        process.exit(0);
      },
      (err) => {
        clearTimeout(force);
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/**
 * Logs, at error level, every exception and promise rejection nobody handled, and keeps the process serving: one
 * bad session must never take every other session (and, in one process, generator and media) down with it.
 * Returns a function that removes the handlers (for tests).
 */
export function guardProcess(log: Logger): () => void {
  const onException = (err: unknown) => log.error({ err }, "uncaught exception; still serving");
  const onRejection = (err: unknown) => log.error({ err }, "unhandled promise rejection; still serving");
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}

/** Lets `work` run on its own: a rejection is logged at error level as `what` failing, never left unhandled. */
export function inBackground(log: Logger, what: string, work: Promise<unknown>): void {
  work.catch((err: unknown) => log.error({ err }, `${what} failed`));
}
