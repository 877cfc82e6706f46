/** The generator's metrics, registered in the registry its owner passes in. */
import { type Counter, type Gauge, type Registry, counter, defaultRegistry, gauge, once } from "@ballstream/runtime";

/** The generator's metrics. */
export interface GeneratorMetrics {
  /** Frames drawn and published. */
  readonly framesProduced: Counter;
  /** Frames published more than one frame interval after their scheduled capture time. */
  readonly framesLate: Counter;
  /** Frame slots skipped to catch up with the clock (never drawn). */
  readonly framesSkipped: Counter;
  /** Sessions with a running worker. */
  readonly activeSessions: Gauge;
}

/** Registers (once) and returns the generator's metrics. */
export function createGeneratorMetrics(registry: Registry = defaultRegistry): GeneratorMetrics {
  return once(registry, "generator", () => ({
    framesProduced: counter(registry, "generator_frames_produced_total", "Frames drawn and published by the generator."),
    framesLate: counter(registry, "generator_frames_late_total", "Frames published more than one frame interval after their scheduled capture time."),
    framesSkipped: counter(registry, "generator_frames_skipped_total", "Frame slots skipped to catch up with the clock."),
    activeSessions: gauge(registry, "generator_active_sessions", "Sessions with a running generator worker."),
  }));
}

