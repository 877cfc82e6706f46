/**
 * Broadcast channels (issue 19) as people use them, in two real Chromium pages on one one-process system: the first
 * types a channel's name and clicks Join (and owns the channel), the second opens the viewers' link the first
 * shows (and only watches: its fps box is disabled); the owner changes fps in its fps box, and the second page shows
 * the new fps within a few seconds; both decode the same channel's frames and get their own error reports.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type HookSnapshot, readHook, readSamples, waitForHook } from "@ballstream/web/hook-reader";
import type { BallstreamHook } from "@ballstream/web/hook";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const lab = oneSystemAndChromium({ timeoutMs: 60_000 });

/** Longer than one view refresh (100 ms while video plays) with room for a busy machine. */
const THINK_MS = 700;

let owner: Page;
let viewer: Page;

const shownSettings = (p: Page) => p.locator("dt:text-is('settings') + dd").innerText();

/** Waits until `p` streams the channel with error reports back; fails with the page's error and the server's log. */
async function streamingChannel(p: Page, what: string, reports = 30): Promise<HookSnapshot> {
  const hook = await waitForHook(p, what, (h) => (h.status === "streaming" && h.channel !== null && h.reportsReceived > reports) || h.status === "error", 30_000);
  if (hook.status === "error") throw new Error(`${what}: page failed: ${hook.error}\n${lab.system.server.output().slice(-3000)}`);
  return hook;
}

describe("a broadcast channel, two viewers", () => {
  test("the first joins by typing the name and owns it; the second opens the viewers' link and only watches", async () => {
    owner = await lab.browser.newPage({ viewport: { width: 1280, height: 900 }, permissions: ["clipboard-read", "clipboard-write"] });
    await owner.goto(lab.system.url);
    await owner.getByTestId("channel-name").click();
    await owner.keyboard.type("x", { delay: 30 });
    await owner.getByTestId("channel-join").click();
    await owner.waitForURL((url) => url.search === "?channel=x", { timeout: 10_000 });
    const first = await streamingChannel(owner, "owner streams channel x");
    expect(first.channel).toMatchObject({ name: "x", owner: true });
    expect(first.channel?.ownerToken).toBeString();
    expect(await owner.getByTestId("channel-label").innerText()).toBe("Channel x · you own it");
    const viewerLink = await owner.getByTestId("channel-viewer-link").inputValue();
    expect(viewerLink).toBe(`${new URL(lab.system.url).origin}/?channel=x`);
    expect(await owner.getByTestId("channel-owner-link").inputValue()).toBe(`${viewerLink}&owner=${first.channel!.ownerToken}`);
    expect(await owner.getByLabel("fps").isEnabled()).toBe(true);
    await owner.getByTestId("channel-copy-viewer").click();
    expect(await owner.getByTestId("channel-copied").innerText()).toBe("viewers' link copied");
    expect(await owner.evaluate(() => navigator.clipboard.readText())).toBe(viewerLink);

    viewer = await lab.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await viewer.goto(viewerLink);
    const second = await streamingChannel(viewer, "viewer streams channel x");
    expect(second.channel).toEqual({ name: "x", owner: false });
    expect(second.sessionId).not.toBe(first.sessionId); // each viewer has its session (its own errors) in the channel
    expect(await viewer.getByTestId("channel-label").innerText()).toBe("Channel x · watching (the owner sets fps and speed)");
    expect(await viewer.getByTestId("channel-owner-link").count()).toBe(0);
    for (const name of ["fps", "speed"]) {
      expect(await viewer.getByLabel(name).isDisabled()).toBe(true);
      expect(await viewer.getByLabel(name).getAttribute("title")).toContain("only its owner changes fps and speed");
    }
    expect(await viewer.getByRole("button", { name: "Apply" }).isDisabled()).toBe(true);
    expect(await viewer.getByTestId("net-apply").isEnabled()).toBe(true); // the network is each viewer's own
  }, 90_000);

  test("the owner types fps 60 and applies it: the viewer shows fps 60 within a few seconds", async () => {
    await owner.getByLabel("fps").click();
    await owner.keyboard.press("ControlOrMeta+A");
    await owner.keyboard.type("60", { delay: 30 });
    await Bun.sleep(THINK_MS);
    await owner.getByRole("button", { name: "Apply" }).click();
    const applied = Date.now();
    await waitForHook(owner, "owner at fps 60", (h) => h.settings?.fps === 60, 10_000);
    const seen = await waitForHook(viewer, "viewer told fps 60", (h) => h.settings?.fps === 60, 5_000);
    console.log(`[channel-page] the viewer saw fps 60 ${Date.now() - applied} ms after the owner's Apply (polled every 200 ms)`);
    expect(seen.settings?.fps).toBe(60);
    await Bun.sleep(THINK_MS); // a view refresh
    expect(await viewer.getByLabel("fps").inputValue()).toBe("60");
    expect(await shownSettings(viewer)).toContain("@ 60 fps");
    // the one generator really runs at 60 for both
    for (const [p, who] of [[owner, "owner"], [viewer, "viewer"]] as const) {
      const fast = await waitForHook(p, `${who} receives near 60 fps`, (h) => (h.inbound.framesPerSecond ?? 0) > 45, 15_000);
      expect(fast.inbound.framesPerSecond ?? 0).toBeGreaterThan(45);
    }
  }, 60_000);

  test("both decode frames and get their own error reports; the viewer's fps change through the hook is refused on the page", async () => {
    const before = [(await readHook(owner))!, (await readHook(viewer))!];
    await Bun.sleep(2000);
    const after = [(await readHook(owner))!, (await readHook(viewer))!];
    for (const [i, who] of ["owner", "viewer"].entries()) {
      expect(after[i]!.status).toBe("streaming");
      expect(after[i]!.inbound.framesDecoded, `${who} decodes`).toBeGreaterThan(before[i]!.inbound.framesDecoded);
      expect(after[i]!.reportsReceived, `${who} gets reports`).toBeGreaterThan(before[i]!.reportsReceived + 30);
      expect(after[i]!.lastReport?.frameMatched, `${who}'s last report matched its frame`).toBe(true);
      expect(Math.abs(after[i]!.lastReport!.frameErrorPx), `${who}'s frame-matched error`).toBeLessThan(2);
    }
    for (const [p, who] of [[owner, "owner"], [viewer, "viewer"]] as const) {
      const samples = await readSamples(p);
      expect(samples.length, `${who}'s samples`).toBeGreaterThan(30);
      expect(samples.at(-1)?.channel).toBe("x");
    }
    for (const id of ["realtime-error", "frame-error"]) expect(await viewer.getByTestId(id).innerText()).toMatch(/^\d+\.\d+\s*px$/);

    const refused = await viewer.evaluate(() =>
      (globalThis as unknown as { ballstream: BallstreamHook }).ballstream.control({ fps: 20 }).then(() => "sent", (e: unknown) => String(e)),
    );
    expect(refused).toContain("Not sent");
    await Bun.sleep(1000);
    const still = (await readHook(viewer))!;
    expect([still.status, still.settings?.fps, still.error]).toEqual(["streaming", 60, null]);
  }, 30_000);
});
