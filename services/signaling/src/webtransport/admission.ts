/**
 * Admission of WebTransport CONNECTs as a policy the application passes in, made of small checks (the shape of the
 * HTTP router's handlers): each check refuses with an HTTP status or passes to the next; all passing accepts.
 *
 * ```ts
 * accept: admission(allowOrigins(["https://app.example"]), onPaths(["/wt"]), maxSessionsPerConnection(4))
 * ```
 */
import type { AdmissionCheck, AdmissionPolicy } from "./types.ts";

/** A policy that runs `checks` in order: the first status wins, "accept" when every check passes. */
export function admission(...checks: readonly AdmissionCheck[]): AdmissionPolicy {
  return (request) => {
    for (const check of checks) {
      const status = check(request);
      if (status !== undefined) return status;
    }
    return "accept";
  };
}

/** 403 unless the `origin` header is one of `origins` exactly; `"*"` allows any origin. */
export function allowOrigins(origins: readonly string[]): AdmissionCheck {
  const allowed = new Set(origins);
  return (request) => (allowed.has("*") || allowed.has(request.origin) ? undefined : 403);
}

/** 404 unless the path (query removed) is one of `paths`. */
export function onPaths(paths: readonly string[]): AdmissionCheck {
  const known = new Set(paths);
  return (request) => (known.has(request.path.split("?")[0] ?? "") ? undefined : 404);
}

/** 429 once the connection already holds `max` sessions: one QUIC connection cannot take every session slot. */
export function maxSessionsPerConnection(max: number): AdmissionCheck {
  return (request) => (request.connectionSessions >= max ? 429 : undefined);
}
