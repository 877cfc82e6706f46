/**
 * Issue 17's must-show "a session survives a certificate rotation", in real Chromium against `bun start` with a
 * 20 s WebTransport certificate (WT_CERT_VALIDITY_S=20: the next one is published at 10 s of its life, presented 2 s
 * later, the old one expires at 20 s): the page opened on the first certificate keeps streaming past its expiry, a
 * page opened after the switch connects with the new one, and /readyz stays green throughout. Behaviour, not timing.
 */
import { afterAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { type RunningSystem, launchChromium, startOneProcess } from "@ballstream/testing";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { settle } from "./reliability/probes.ts";

let browser: Browser | undefined;
let system: RunningSystem | undefined;

afterAll(async () => {
  await browser?.close();
  await system?.cleanup();
});

async function open(): Promise<Page> {
  const page = await browser!.newPage();
  await page.goto(system!.url);
  const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 10) || h.status === "error");
  if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${system!.server.output().slice(-3000)}`);
  return page;
}

const hashes = async (): Promise<string[]> => (await (await fetch(`${system!.url}config.json`)).json()).certificateHashes;
const ready = async (): Promise<boolean> => (await fetch(`${system!.url}readyz`)).ok;

test("a session opened on the first certificate streams on past its expiry; a page opened after the switch uses the new one", async () => {
  [system, browser] = await Promise.all([startOneProcess({ WT_CERT_VALIDITY_S: "20" }), launchChromium()]);
  const [first] = await hashes();
  const early = await open();
  const readiness: boolean[] = [];
  const published = await settle(hashes, (h) => h.length === 2, 15_000);
  readiness.push(await ready());
  const switched = await settle(hashes, (h) => h[0] !== first, 10_000);
  readiness.push(await ready());
  const late = await open(); // its page loaded /config.json after the switch: the new certificate
  const before = (await readHook(early))!.reportsReceived;
  const expired = await settle(hashes, (h) => !h.includes(first!), 15_000);
  readiness.push(await ready());
  await Bun.sleep(1000);
  const [earlyAfter, lateAfter] = [(await readHook(early))!, (await readHook(late))!];
  console.log(
    `certificate rotation: published ${published.length} hashes, then presented the new one (${switched.length} listed), then the first expired (${expired.length} listed); ` +
      `the early page got ${earlyAfter.reportsReceived - before} reports after the switch, status ${earlyAfter.status}; the late page ${lateAfter.status}; readyz ${readiness.join(", ")}`,
  );
  expect(published[0]).toBe(first);
  expect(switched[0]).not.toBe(first);
  expect(switched).toContain(first!); // still listed while it is valid
  expect(expired).not.toContain(first);
  expect(earlyAfter.status).toBe("streaming");
  expect(earlyAfter.reportsReceived).toBeGreaterThan(before + 30);
  expect(lateAfter.status).toBe("streaming");
  expect(readiness).toEqual([true, true, true]);
}, 120_000);
