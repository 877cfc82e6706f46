/**
 * Test and bench helper: headless Debian Chromium (playwright-core) with a page served over http://127.0.0.1 (a
 * secure context) from which scripts open WebTransport sessions to a server under test.
 */
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "@ballstream/testing";

/** A browser page on a local origin plus what it takes to stop them. */
export interface BrowserPage {
  readonly page: Page;
  /** The page's origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  close(): Promise<void>;
}

/** Launches Chromium and opens a blank page served from a Bun HTTP server on 127.0.0.1. */
export async function openBrowserPage(): Promise<BrowserPage> {
  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response("<!doctype html><title>wt</title>", { headers: { "content-type": "text/html" } }),
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    const origin = `http://127.0.0.1:${http.port}`;
    await page.goto(`${origin}/`);
    const opened = browser;
    return {
      page,
      origin,
      async close() {
        await opened.close();
        await http.stop(true);
      },
    };
  } catch (error) {
    await browser?.close();
    await http.stop(true);
    throw error;
  }
}
