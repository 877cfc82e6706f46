/**
 * Security headers on every HTTP answer of signaling: a Content-Security-Policy that allows exactly what the built
 * page uses, `X-Content-Type-Options: nosniff`, framing refused, no referrer.
 */
import type { Middleware } from "./router.ts";

/**
 * The page's CSP. Scripts, styles, the detection worker and `fetch("/config.json")` come from the page's own
 * origin; WebTransport goes to `https://<the page's host>:<wtPort>` (a different port is a different origin, so it
 * is named); the favicon is a `data:` URL; nothing else. No `'unsafe-inline'` even for styles: Svelte 5 sets the
 * legend's dynamic `style` through CSSOM (`style.cssText`), which CSP does not block (checked in Chromium by
 * e2e/security-headers.test.ts).
 */
export function contentSecurityPolicy(pageHost: string, wtPort: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' https://${pageHost}:${wtPort}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Adds the security headers to every response; `wtPort()` is read per request (the server starts after HTTP). */
export function securityHeaders(wtPort: () => number): Middleware {
  return async (request, next) => {
    const response = await next();
    const headers = response.headers;
    headers.set("content-security-policy", contentSecurityPolicy(new URL(request.url).hostname, wtPort()));
    headers.set("x-content-type-options", "nosniff");
    headers.set("x-frame-options", "DENY");
    headers.set("referrer-policy", "no-referrer");
    return response;
  };
}
