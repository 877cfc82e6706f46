/**
 * The one-command default (`bun start`): generator, media and signaling in this one process on the in-process
 * bus: no NATS, no Docker. Settings from the environment as for the standalone services (HTTP_PORT, WT_PORT,
 * TLS_CERT, ICE_PORT_MIN/MAX, FFMPEG_PATH, …).
 * Unhandled errors are logged and the process keeps serving (`guardProcess`). Prints the URL to open.
 * SIGINT/SIGTERM close every session, stop every worker and encoder, exit 0.
 */
import { startGenerator } from "@ballstream/generator";
import { mediaConfigFromEnv, startMedia } from "@ballstream/media";
import { MemoryBus, collectProcessMetrics, createLogger, defaultRegistry, guardProcess, onShutdownSignal } from "@ballstream/runtime";
import { signalingConfigFromEnv, startSignaling } from "@ballstream/signaling";

const log = createLogger("ballstream");
guardProcess(log);
collectProcessMetrics(defaultRegistry, "ballstream");
const bus = new MemoryBus(log);
const running: Array<{ stop(): Promise<void> }> = [];

/** Stops what runs, newest first (signaling closes the viewers' sessions before the back-ends go). */
async function stopAll(): Promise<void> {
  for (const service of running.splice(0).reverse()) await service.stop();
  await bus.drain();
}

try {
  const mediaConfig = mediaConfigFromEnv(process.env);
  // MAX_SESSIONS means the sessions this process runs at once, in every service: here one number for all three.
  const { maxSessions } = mediaConfig;
  const signalingConfig = { ...signalingConfigFromEnv(process.env), maxSessions };
  running.push(await startGenerator({ bus, log: createLogger("generator"), config: { maxSessions } }));
  running.push(await startMedia({ bus, log: createLogger("media"), config: mediaConfig, handOverMs: 0 })); // no other replica to hand over to
  const signaling = await startSignaling({ bus, log: createLogger("signaling"), config: signalingConfig });
  running.push(signaling);
  onShutdownSignal(log, stopAll, 2000);
  console.log(`\n  ballstream is running: open ${signaling.httpUrl} in Chromium or Chrome (Ctrl-C stops it)\n`);
} catch (err) {
  log.fatal({ err }, "ballstream could not start");
  await stopAll().catch(() => undefined);
  process.exit(1);
}
