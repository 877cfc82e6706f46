/**
 * The built page in real headless Chromium against a static server that is *not* ballstream: it must load,
 * render, expose `window.ballstream` and show a clear error for each failure before WebTransport is up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { freeUdpPort, launchChromium } from "@ballstream/testing";
import type { Browser } from "playwright-core";

const dist = join(import.meta.dir, "..", "dist");
let browser: Browser;
let server: ReturnType<typeof Bun.serve>;
let configResponse: () => Response = () => new Response("not here", { status: 404 });
/** How many times a page asked for /config.json (its first step towards a connection). */
let configRequests = 0;

beforeAll(async () => {
  if (!existsSync(join(dist, "index.html"))) Bun.spawnSync(["bun", "run", "build"], { cwd: join(import.meta.dir, "..") });
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/config.json") return (configRequests++, configResponse());
      const file = Bun.file(join(dist, path === "/" ? "index.html" : path));
      return (await file.exists()) ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  server?.stop(true);
});

async function errorOfPage(search = ""): Promise<{ status: string; error: string | null; banner: string }> {
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${server.port}/${search}`);
    await page.waitForFunction(() => (window as unknown as { ballstream?: { status: string } }).ballstream?.status === "error", null, { timeout: 30_000 });
    const hook = await page.evaluate(() => {
      const b = (window as unknown as { ballstream: { status: string; error: string | null } }).ballstream;
      return { status: b.status, error: b.error };
    });
    return { ...hook, banner: (await page.getByTestId("error").textContent()) ?? "" };
  } finally {
    await page.close();
  }
}

describe("page without a ballstream server", () => {
  test("no /config.json → a clear error in the hook and on the page", async () => {
    configResponse = () => new Response("not here", { status: 404 });
    const r = await errorOfPage();
    expect(r.error).toContain("/config.json with HTTP 404");
    expect(r.banner).toBe(r.error!);
  });

  test("invalid /config.json → names the bad field", async () => {
    configResponse = () => Response.json({ wtPort: "x" });
    expect((await errorOfPage()).error).toContain("config.wtPort");
  });

  test("WebTransport endpoint not listening → says it cannot open WebTransport", async () => {
    const port = await freeUdpPort();
    configResponse = () => Response.json({ wtPort: port, wtPath: "/wt", certificateHashes: [], defaults: {} });
    const r = await errorOfPage();
    expect(r.error).toContain(`Cannot open WebTransport to https://127.0.0.1:${port}/wt`);
  });
});

describe("channels, before any connection", () => {
  test("a bad ?channel= name: the message on the page and in the hook, and no connection (no /config.json)", async () => {
    const before = configRequests;
    const r = await errorOfPage("?channel=my%20room");
    expect(r.error).toContain('Not a channel name: "my room"');
    expect(r.error).toContain("1–32 letters, digits");
    expect(r.banner).toBe(r.error!);
    await Bun.sleep(300);
    expect(configRequests).toBe(before);
  });

  test("the Join box: a bad name is refused in place; a good one loads the page with ?channel=NAME and connects", async () => {
    configResponse = () => new Response("not here", { status: 404 });
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${server.port}/?fps=50`);
      await page.getByTestId("channel-name").fill("a.b");
      await page.getByTestId("channel-join").click();
      expect(await page.getByTestId("channel-join-error").innerText()).toContain("Not a channel name");
      expect(new URL(page.url()).search).toBe("?fps=50");
      const before = configRequests;
      await page.getByTestId("channel-name").fill(" lobby ");
      await page.getByTestId("channel-join").click();
      await page.waitForURL((url) => url.search === "?channel=lobby", { timeout: 10_000 });
      await page.waitForFunction(() => (window as unknown as { ballstream?: { status: string } }).ballstream?.status === "error", null, { timeout: 30_000 });
      expect(configRequests).toBeGreaterThan(before); // the joined page connects (here: to a server that is not ballstream)
    } finally {
      await page.close();
    }
  });
});
