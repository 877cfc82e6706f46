/** Liveness and readiness probes for orchestrators. */
import { type Handler, get, json } from "./router.ts";

/** What readiness depends on; each check says whether that part works now. */
export type ReadinessChecks = Readonly<Record<string, () => boolean>>;

/** `GET /healthz`: 200 while the process serves requests. */
export function healthz(): Handler {
  return get("/healthz", () => json({ ok: true }));
}

/** `GET /readyz`: 200 when every check passes, else 503; the body lists each check. */
export function readyz(checks: ReadinessChecks): Handler {
  return get("/readyz", () => {
    const results = Object.fromEntries(Object.entries(checks).map(([name, check]) => [name, check()]));
    const ok = Object.values(results).every(Boolean);
    return json({ ok, checks: results }, ok ? 200 : 503);
  });
}
