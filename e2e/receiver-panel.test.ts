/**
 * The receiver panel under a lossy link, in real Chromium against the one-process system with media's emulated
 * link dropping 5 % of what it sends (MEDIA_NET_EGRESS): the panel's NACK count rises and the loss it shows is what
 * the browser's getStats reports, in the panel, the hook and the CSV alike.
 */
import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const lab = oneSystemAndChromium({
  env: { MEDIA_NET_EGRESS: "loss=5%,seed=15" },
  timeoutMs: 60_000,
  setup: async () => {
    page = await lab.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(lab.system.url);
    const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 30) || h.status === "error");
    if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${lab.system.server.output().slice(-3000)}`);
  },
});

let page: Page;

/** The text of the receiver panel's row `name`. */
const row = (name: string) => page.locator(`dt:text-is('${name}') + dd`).innerText();

test("at 5 % loss the panel shows the NACKs the browser sends and the loss it counts", async () => {
  await waitForHook(page, "NACKs sent", (h) => h.inbound.nackCount >= 3 && h.inbound.bitrateKbps !== null, 20_000);
  // the panel shows a snapshot of the state at most ~100 ms old (10 Hz), getStats is polled each second: read the
  // hook, give the panel time to catch up, read the panel, read the hook again; the panel's counters lie between
  const before = (await readHook(page))!.inbound;
  await Bun.sleep(300);
  const [nacks, plis, firs] = (await row("NACKs / PLIs / FIRs sent")).split(" / ").map(Number);
  const lost = Number(await row("packets lost"));
  const loss = await row("loss");
  const after = (await readHook(page))!.inbound;
  console.log(`[receiver-panel] at 5 % loss: ${await row("received bitrate")}, lost ${lost}, loss ${loss}, NACKs/PLIs/FIRs ${nacks}/${plis}/${firs}, freezes ${await row("freezes")}; hook ${JSON.stringify({ packetsReceived: after.packetsReceived, packetsLost: after.packetsLost, nackCount: after.nackCount })}`);
  expect(nacks).toBeGreaterThanOrEqual(3);
  for (const [shown, k] of [[nacks, "nackCount"], [plis, "pliCount"], [firs, "firCount"]] as const) {
    expect(shown).toBeGreaterThanOrEqual(before[k]);
    expect(shown).toBeLessThanOrEqual(after[k]);
  }
  expect([before.packetsLost, after.packetsLost]).toContain(lost);
  expect(loss).toMatch(/^\d+\.\d\d % \(last s (\d+\.\d\d|–) %\)$/);
  expect(after.lossPct).toBeCloseTo((100 * Math.max(0, after.packetsLost)) / (after.packetsReceived + Math.max(0, after.packetsLost)), 9);
}, 30_000);
