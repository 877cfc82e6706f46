/**
 * A busy `bun start` is not a dead one: the whole process held up for 1.5 s (SIGSTOP, as a loaded machine's longest
 * stalls under e2e/udp-mux.test.ts) must not make signaling's watchdog take over the live generator or move the
 * video off the live media replica (they share the process and its event loop; their heartbeats wait behind the
 * watchdog's late tick). Before that was excused, every page here saw "the generator went silent … another replica
 * took over" and some "the media replica … went silent", and under more load tabs stopped decoding.
 */
import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const TABS = 3;
const LIGHT = "?fps=5&width=320&height=240&radius=12";
const FREEZE_MS = 1500;

const lab = oneSystemAndChromium();

/** The event lines the page shows (what a person reads in its Events list). */
const eventsOf = (page: Page) => page.evaluate(() => [...document.querySelectorAll("ul.events li")].map((e) => e.textContent ?? ""));

test(`the one process held up for ${FREEZE_MS} ms: no takeover, no renegotiation, the same sessions go on decoding`, async () => {
  const pages: Page[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await lab.browser.newPage();
    await page.goto(`${lab.system.url}${LIGHT}`);
    const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 5) || h.status === "error" || h.status === "closed", 60_000);
    if (hook.status !== "streaming") throw new Error(`tab ${i} failed: ${hook.error}`);
    pages.push(page);
  }
  const before = await Promise.all(pages.map(async (p) => (await readHook(p))!));
  process.kill(lab.system.server.pid, "SIGSTOP");
  try {
    await Bun.sleep(FREEZE_MS);
  } finally {
    process.kill(lab.system.server.pid, "SIGCONT");
  }
  await Bun.sleep(1000); // the thawed process's watchdogs have ticked
  const thawed = await Promise.all(pages.map(async (p) => (await readHook(p))!));
  await Bun.sleep(3000);
  const after = await Promise.all(pages.map(async (p) => (await readHook(p))!));
  const events = await Promise.all(pages.map(eventsOf));
  console.log(`held up ${FREEZE_MS} ms: frames decoded per tab in the 3 s after: ${after.map((h, i) => h.inbound.framesDecoded - thawed[i]!.inbound.framesDecoded).join(" ")}; events: ${JSON.stringify(events)}`);
  for (const [i, h] of after.entries()) {
    expect(events[i]!.filter((e) => /went silent/.test(e)), `tab ${i}`).toEqual([]);
    expect(h.status, `tab ${i}`).toBe("streaming");
    expect(h.sessionId, `tab ${i}`).toBe(before[i]!.sessionId);
    expect(h.resumes, `tab ${i}`).toBe(before[i]!.resumes);
    expect(h.inbound.framesDecoded - thawed[i]!.inbound.framesDecoded, `tab ${i}`).toBeGreaterThan(5);
  }
  await Promise.all(pages.map((p) => p.close()));
}, 120_000);
