/**
 * Drives one real viewer session through the running containers: headless Chromium opens the page, waits until
 * video is decoded and error reports arrive, watches for a few seconds, prints frames decoded and errors received,
 * and stops the session. Exits 1 if the page never streams. Usage: `bun deploy/smoke/drive.ts http://127.0.0.1:PORT`.
 */
import type { BallstreamHook } from "@ballstream/web/hook";
import { launchChromium } from "@ballstream/testing";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";

const WATCH_MS = 10_000;
const url = process.argv[2];
if (!url) {
  console.error("usage: bun deploy/smoke/drive.ts <page url>");
  process.exit(2);
}

const browser = await launchChromium();
let ok = false;
try {
  const page = await browser.newPage();
  const console_: string[] = [];
  page.on("console", (m) => void console_.push(`${m.type()}: ${m.text()}`));
  await page.goto(url);
  const first = await waitForHook(page, "streaming with reports", (h) => (h.status === "streaming" && h.reportsReceived > 0) || h.status === "error", 90_000).catch((err: Error) => {
    console.error(`${err.message}\n--- browser console\n${console_.slice(-30).join("\n")}`);
    return null;
  });
  if (first?.status === "streaming") {
    await Bun.sleep(WATCH_MS);
    const h = (await readHook(page))!;
    const r = h.lastReport;
    console.log(
      `smoke: session ${h.sessionId}: ${h.inbound.framesDecoded} frames decoded (${h.inbound.codec}), ${h.reportsReceived} error reports received; ` +
        `last: real-time error ${r?.realtimeErrorPx.toFixed(1)} px, frame-matched error ${r?.frameErrorPx.toFixed(2)} px`,
    );
    ok = h.status === "streaming" && h.inbound.framesDecoded > 0 && h.reportsReceived > 0 && r !== null;
    await page.evaluate(() => (globalThis as unknown as { ballstream: BallstreamHook }).ballstream.stop());
  } else if (first) {
    console.error(`smoke: the page failed: ${first.error}\n--- browser console\n${console_.slice(-30).join("\n")}`);
  }
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
