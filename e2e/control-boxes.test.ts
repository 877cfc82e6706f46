/**
 * The page's fps and speed boxes used as a person uses them, in real Chromium against the one-process system:
 * type, wait over a view refresh (10 Hz), then click Apply; a bad value is refused on the page and nothing is sent.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type HookSnapshot, readHook, waitForHook } from "@ballstream/web/hook-reader";
import type { BallstreamHook } from "@ballstream/web/hook";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const lab = oneSystemAndChromium({
  timeoutMs: 60_000,
  setup: async () => {
    page = await lab.browser.newPage();
    await page.goto(lab.system.url);
    await streaming(page);
  },
});

/** Longer than one view refresh (100 ms while video plays, 250 ms without) with room for a busy machine. */
const THINK_MS = 700;

let page: Page;

const box = (name: "fps" | "speed", on = page) => on.getByLabel(name);
/** A change made elsewhere: through the page's test hook, not the boxes. */
const control = (change: { fps?: number; speed?: number }) =>
  page.evaluate((c) => (globalThis as unknown as { ballstream: BallstreamHook }).ballstream.control(c), change);
const apply = () => page.getByRole("button", { name: "Apply" }).click();
const shownSettings = () => page.locator("dt:text-is('settings') + dd").innerText();

/** Clicks into a box, selects what it holds and types `text`, key by key. */
async function typeInto(name: "fps" | "speed", text: string): Promise<void> {
  await box(name).click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type(text, { delay: 30 });
}

async function streaming(p: Page): Promise<HookSnapshot> {
  const hook = await waitForHook(p, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 0) || h.status === "error");
  if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${lab.system.server.output().slice(-3000)}`);
  return hook;
}

describe("fps and speed boxes, typed by a person", () => {
  test("type fps 60, wait, type a speed, wait, Apply: the server applies both and the boxes keep them", async () => {
    expect((await readHook(page))?.settings).toMatchObject({ fps: 30, speed: 320 });
    await typeInto("fps", "60");
    await Bun.sleep(THINK_MS);
    expect(await box("fps").inputValue()).toBe("60");
    await typeInto("speed", "480");
    await Bun.sleep(THINK_MS);
    expect(await box("fps").inputValue()).toBe("60");
    expect(await box("speed").inputValue()).toBe("480");

    await apply();
    const hook = await waitForHook(page, "fps 60 applied", (h) => h.settings?.fps === 60, 10_000);
    expect(hook.settings).toMatchObject({ fps: 60, speed: 480 });
    await Bun.sleep(THINK_MS);
    expect(await shownSettings()).toContain("@ 60 fps, 480 px/s");
    expect(await box("fps").inputValue()).toBe("60");
    expect(await box("speed").inputValue()).toBe("480");
    // the stream really runs at the new rate (getStats' receive fps, refreshed every second)
    const fast = await waitForHook(page, "receive fps near 60", (h) => (h.inbound.framesPerSecond ?? 0) > 45, 15_000);
    console.log(`[control-boxes] applied ${JSON.stringify({ fps: fast.settings?.fps, speed: fast.settings?.speed })}; receive fps ${fast.inbound.framesPerSecond}`);
    expect(fast.inbound.framesPerSecond ?? 0).toBeGreaterThan(45);
  }, 60_000);

  for (const [name, text, limit] of [["fps", "0", "1–120"], ["fps", "500", "1–120"], ["fps", "abc", "1–120"], ["speed", "-5", "0–5000"]] as const) {
    test(`${name} "${text}": a clear message on the page, nothing sent, the session plays on`, async () => {
      const before = (await readHook(page))!;
      await typeInto(name, text);
      await Bun.sleep(THINK_MS);
      await apply();
      const message = await page.getByTestId("control-error").innerText();
      expect(message).toContain(`${name} must be`);
      expect(message).toContain(limit);
      expect(message).toContain(`"${text}"`);
      // a bad value that reached the server would end the session (bad_request); nothing changed instead
      await Bun.sleep(THINK_MS);
      const after = (await readHook(page))!;
      expect({ status: after.status, error: after.error, settings: after.settings }).toEqual({ status: "streaming", error: null, settings: before.settings });
      expect(after.reportsReceived).toBeGreaterThan(before.reportsReceived);
      expect(await box(name).inputValue()).toBe(text);
      await typeInto(name, String(before.settings![name])); // back to the applied value for the next case
    }, 30_000);
  }

  test("a valid Apply clears the message; a change made elsewhere (the hook) shows in boxes the viewer is not in", async () => {
    await typeInto("fps", "45");
    await apply();
    await waitForHook(page, "fps 45 applied", (h) => h.settings?.fps === 45, 10_000);
    expect(await page.getByTestId("control-error").count()).toBe(0);

    await page.locator("h1").click(); // out of the boxes
    await control({ fps: 25, speed: 200 });
    await waitForHook(page, "fps 25 applied", (h) => h.settings?.fps === 25, 10_000);
    await Bun.sleep(THINK_MS);
    expect([await box("fps").inputValue(), await box("speed").inputValue()]).toEqual(["25", "200"]);

    // a box the viewer is in is not overwritten, even untouched; it catches up when the viewer leaves it
    await box("fps").click();
    await control({ fps: 35 });
    await waitForHook(page, "fps 35 applied", (h) => h.settings?.fps === 35, 10_000);
    await Bun.sleep(THINK_MS);
    expect(await box("fps").inputValue()).toBe("25");
    await page.locator("h1").click();
    await Bun.sleep(THINK_MS);
    expect(await box("fps").inputValue()).toBe("35");
  }, 30_000);

  test("settings from the URL (?fps=50&speed=200) fill the boxes and are applied", async () => {
    const other = await lab.browser.newPage();
    try {
      await other.goto(`${lab.system.url}?fps=50&speed=200`);
      const hook = await streaming(other);
      expect(hook.settings).toMatchObject({ fps: 50, speed: 200 });
      await Bun.sleep(THINK_MS);
      expect(await box("fps", other).inputValue()).toBe("50");
      expect(await box("speed", other).inputValue()).toBe("200");
    } finally {
      await other.close();
    }
  }, 60_000);
});
