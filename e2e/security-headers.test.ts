/**
 * The page works under its own security headers: the one-process start (`bun scripts/start.ts`) serves the built
 * page with a Content-Security-Policy, and real headless Chromium loads it, opens WebTransport, runs the detection
 * worker, decodes H.264 and receives error reports with no CSP violation reported, neither as a
 * `securitypolicyviolation` event nor on the console. Also: `/metrics` is not on the page's port, a NUL in the
 * path is a 400.
 */
import { describe, expect, test } from "bun:test";
import { waitForHook } from "@ballstream/web/hook-reader";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const lab = oneSystemAndChromium();

describe("security headers against a real browser", () => {
  test("every answer carries them; /metrics is not on the page's port; a NUL in the path is a 400", async () => {
    for (const path of ["", "config.json", "nope.js", "%00"]) {
      const r = await fetch(`${lab.system.url}${path}`);
      expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
    }
    expect((await fetch(`${lab.system.url}%00`)).status).toBe(400);
    expect(await (await fetch(`${lab.system.url}metrics`)).text()).not.toContain("ballstream_");
    expect(await (await fetch(lab.system.metricsUrls[0]!)).text()).toContain("ballstream_signaling_active_sessions");
    expect(lab.system.server.output()).not.toContain('"level":"error"');
  });

  test("the page streams, detects and gets reports with no CSP violation", async () => {
    const page = await lab.browser.newPage();
    const console: string[] = [];
    page.on("console", (m) => void console.push(`${m.type()}: ${m.text()}`));
    await page.addInitScript(() => {
      const seen: string[] = [];
      (globalThis as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
    });
    await page.goto(lab.system.url);
    const hook = await waitForHook(page, "streaming with reports", (h) => (h.status === "streaming" && h.reportsReceived > 10 && h.framesDetected > 10 && h.inbound.framesDecoded > 10) || h.status === "error", 60_000);
    expect(hook.error).toBeNull();
    expect(hook.inbound.framesDecoded).toBeGreaterThan(10);
    const violations = await page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations);
    console.push(...violations.map((v) => `violation: ${v}`));
    const csp = console.filter((l) => /Content Security Policy|violation/i.test(l));
    expect(csp).toEqual([]);
    await page.close();
  }, 90_000);
});
