import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SETTINGS } from "@ballstream/protocol";
import { createLogger } from "@ballstream/runtime";
import { collectingLogger } from "@ballstream/testing";
import { clientConfig } from "../src/http/client-config.ts";
import { healthz, readyz } from "../src/http/probes.ts";
import { compose, get, json, withMiddleware } from "../src/http/router.ts";
import { contentSecurityPolicy, securityHeaders } from "../src/http/security-headers.ts";
import { staticFiles } from "../src/http/static-files.ts";

const log = createLogger("test", { level: "silent" });
const call = (fetch: (r: Request) => Promise<Response>, path: string, method = "GET") => fetch(new Request(`http://x${path}`, { method }));

describe("router", () => {
  test("compose tries handlers in order and answers 404 when none does", async () => {
    const fetch = compose([get("/a", () => new Response("a")), get("/b", () => new Response("b"))], log);
    expect(await (await call(fetch, "/b")).text()).toBe("b");
    expect((await call(fetch, "/c")).status).toBe(404);
  });

  test("get answers 405 to other methods", async () => {
    const fetch = compose([get("/a", () => new Response("a"))], log);
    const r = await call(fetch, "/a", "POST");
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
  });

  test("a throwing handler becomes a 500, not an exception", async () => {
    const fetch = compose([() => { throw new Error("boom"); }], log);
    expect((await call(fetch, "/")).status).toBe(500);
  });

  test("json is uncached JSON", async () => {
    const r = json({ a: 1 }, 201);
    expect(r.status).toBe(201);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(await r.json()).toEqual({ a: 1 });
  });
});

describe("middleware and security headers", () => {
  test("withMiddleware runs the first middleware outermost, each around the rest", async () => {
    const order: string[] = [];
    const mark = (name: string) => async (_: Request, next: () => Promise<Response>) => {
      order.push(`${name} in`);
      const r = await next();
      order.push(`${name} out`);
      return r;
    };
    const fetch = withMiddleware(async () => (order.push("handler"), new Response("x")), [mark("a"), mark("b")]);
    expect(await (await fetch(new Request("http://x/"))).text()).toBe("x");
    expect(order).toEqual(["a in", "b in", "handler", "b out", "a out"]);
  });

  test("the CSP names the WebTransport origin and allows nothing beyond what the page uses", () => {
    const csp = contentSecurityPolicy("127.0.0.1", 4433);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self' https://127.0.0.1:4433");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("worker-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  test("securityHeaders sets them on every answer: found, not found, errors", async () => {
    const fetch = withMiddleware(compose([get("/a", () => new Response("a")), get("/boom", () => { throw new Error("boom"); })], log), [securityHeaders(() => 5000)]);
    for (const path of ["/a", "/nope", "/boom"]) {
      const r = await fetch(new Request(`http://[::1]:8080${path}`));
      expect(r.headers.get("content-security-policy")).toContain("https://[::1]:5000");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });
});

describe("probes", () => {
  test("healthz is always ok", async () => {
    expect((await call(compose([healthz()], log), "/healthz")).status).toBe(200);
  });

  test("readyz is 503 until every check passes, and lists them", async () => {
    let wt = false;
    const fetch = compose([readyz({ bus: () => true, webtransport: () => wt })], log);
    const down = await call(fetch, "/readyz");
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ ok: false, checks: { bus: true, webtransport: false } });
    wt = true;
    expect((await call(fetch, "/readyz")).status).toBe(200);
  });
});

describe("clientConfig", () => {
  test("serves the current config", async () => {
    let port = 1;
    const fetch = compose([clientConfig(() => ({ wtPort: port, wtPath: "/wt", certificateHashes: ["aGFzaA=="], defaults: DEFAULT_SETTINGS }))], log);
    port = 4433;
    expect(await (await call(fetch, "/config.json")).json()).toEqual({ wtPort: 4433, wtPath: "/wt", certificateHashes: ["aGFzaA=="], defaults: DEFAULT_SETTINGS });
  });
});

describe("staticFiles", () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    outside = mkdtempSync(join(tmpdir(), "signaling-static-"));
    root = join(outside, "dist");
    mkdirSync(join(root, "assets"), { recursive: true });
    writeFileSync(join(root, "index.html"), "<h1>index</h1>");
    writeFileSync(join(root, "assets", "app-123.js"), "console.log(1)");
    writeFileSync(join(outside, "secret.txt"), "secret");
  });
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  test("serves files, with hashed assets cached for good", async () => {
    const fetch = compose([staticFiles(root)], log);
    const asset = await call(fetch, "/assets/app-123.js");
    expect(await asset.text()).toBe("console.log(1)");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const index = await call(fetch, "/");
    expect(await index.text()).toBe("<h1>index</h1>");
    expect(index.headers.get("cache-control")).toBe("no-cache");
  });

  test("index.html for client routes, 404 for missing files", async () => {
    const fetch = compose([staticFiles(root)], log);
    expect(await (await call(fetch, "/some/route")).text()).toBe("<h1>index</h1>");
    expect((await call(fetch, "/missing.js")).status).toBe(404);
  });

  test("never leaves its directory", async () => {
    const fetch = compose([staticFiles(root)], log);
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"]) {
      const r = await call(fetch, path);
      expect(await r.text()).not.toBe("secret");
    }
    expect((await call(fetch, "/%E0%A4%A")).status).toBe(400);
  });

  test("a NUL in the path is a 400, not a 500 with an error line", async () => {
    const { log: seen, lines } = collectingLogger();
    const fetch = compose([staticFiles(root)], seen);
    for (const path of ["/%00", "/assets/app-123.js%00.png", "/a%00b"]) expect((await call(fetch, path)).status).toBe(400);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  test("passes on other methods; 503 when the client is not built", async () => {
    expect((await call(compose([staticFiles(root)], log), "/", "POST")).status).toBe(404);
    expect((await call(compose([staticFiles(join(root, "nope"))], log), "/")).status).toBe(503);
  });
});
