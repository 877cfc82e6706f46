/** Default resource limits and their merge with caller overrides. */
import type { WebTransportLimits } from "./types.ts";

/** Limits used where the caller sets none. */
export const DEFAULT_LIMITS: WebTransportLimits = {
  maxSessionsPerConnection: 4,
  maxConnections: 256,
  maxConnectionsPerAddress: 16,
  maxStreamsPerSession: 64,
  maxMessageBytes: 64 * 1024,
  maxDatagramBytes: 1200,
  receiveBudgetBytes: 1024 * 1024,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 30_000,
};

/** Merges overrides onto {@link DEFAULT_LIMITS}; throws RangeError on a non-positive or non-integer value. */
export function resolveLimits(overrides: Partial<WebTransportLimits> = {}): WebTransportLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`limits.${name} must be a positive integer, got ${value}`);
  }
  return limits;
}
