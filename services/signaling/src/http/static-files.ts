/**
 * Serves the built web client from a directory: files by path, `index.html` for every other GET that does not
 * look like a file (client-side routes). Content-hashed files under `assets/` are cached for good.
 */
import { resolve, sep } from "node:path";
import type { Handler } from "./router.ts";

/** A handler serving the files below `root` (GET and HEAD only; other methods pass). */
export function staticFiles(root: string): Handler {
  const base = resolve(root);
  return async (request, url) => {
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return new Response("bad path\n", { status: 400 });
    }
    // A NUL cannot name a file (the file system call would throw: a 500 and an error line for a client's typo).
    if (path.includes("\0")) return new Response("bad path\n", { status: 400 });
    const target = resolve(base, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    if (target !== base && !target.startsWith(base + sep)) return new Response("not found\n", { status: 404 });
    const file = Bun.file(target);
    if (await file.exists()) {
      const immutable = target.startsWith(resolve(base, "assets") + sep);
      return new Response(file, { headers: { "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache" } });
    }
    if (/\.[A-Za-z0-9]+$/.test(path)) return undefined;
    const index = Bun.file(resolve(base, "index.html"));
    if (!(await index.exists())) return new Response("web client not built: run `bun run --cwd web build`\n", { status: 503 });
    return new Response(index, { headers: { "cache-control": "no-cache" } });
  };
}
