/** Telling a session's viewer, through signaling, that something happened in a back-end service. */
import type { Bus } from "./bus/bus.ts";
import { encodeJson, subjects } from "@ballstream/protocol";
import type { Logger } from "./log.ts";
import type { SessionEvent } from "@ballstream/protocol";

/**
 * Publishes `event` on the session's events subject. A bus that refuses (closed, NATS down) is logged, never
 * thrown: the caller is usually ending the session already and must go on doing so.
 */
export function publishSessionEvent(bus: Bus, sessionId: string, event: SessionEvent, log: Logger): void {
  try {
    bus.publish(subjects.events(sessionId), encodeJson(event));
  } catch (err) {
    log.warn({ err, event }, "could not publish the session event");
  }
}
