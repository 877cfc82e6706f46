/**
 * A tiny composable router for signaling's HTTP side: a handler either answers a request or passes (returns
 * undefined) to the next one. No framework: the service has four routes.
 */
import type { Logger } from "@ballstream/runtime";

/** Answers a request, or returns undefined to let the next handler try. */
export type Handler = (request: Request, url: URL) => Response | undefined | Promise<Response | undefined>;

/** A handler for one exact path; other methods than GET/HEAD get 405. */
export function get(path: string, respond: (request: Request, url: URL) => Response | Promise<Response>): Handler {
  return (request, url) => {
    if (url.pathname !== path) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    return respond(request, url);
  };
}

/** A JSON response that is never cached. */
export function json(value: unknown, status = 200): Response {
  return Response.json(value, { status, headers: { "cache-control": "no-store" } });
}

/** Wraps every answer (headers, logging): `next()` runs the rest of the chain and resolves to its response. */
export type Middleware = (request: Request, next: () => Promise<Response>) => Promise<Response>;

/** `fetch` with the middlewares around it, the first one outermost. */
export function withMiddleware(fetch: (request: Request) => Promise<Response>, middlewares: readonly Middleware[]): (request: Request) => Promise<Response> {
  return middlewares.reduceRight<(request: Request) => Promise<Response>>((next, middleware) => (request) => middleware(request, () => next(request)), fetch);
}

/**
 * Tries the handlers in order; 404 when none answers, 500 (logged) when one throws. Never rejects, so the
 * server never sees an exception from a request.
 */
export function compose(handlers: readonly Handler[], log: Logger): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      const url = new URL(request.url);
      for (const handle of handlers) {
        const response = await handle(request, url);
        if (response) return response;
      }
      return new Response("not found\n", { status: 404 });
    } catch (err) {
      log.error({ err, url: request.url }, "HTTP handler failed");
      return new Response("internal error\n", { status: 500 });
    }
  };
}
