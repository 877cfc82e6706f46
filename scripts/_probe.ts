// @ts-nocheck
import { launchChromium, startOneProcess, quantile } from "@ballstream/testing";
import { readSamples, waitForHook } from "@ballstream/web/hook-reader";
const fps = Number(process.argv[2] ?? 60);
const transport = process.argv[3] ?? "webtransport";
const [system, browser] = await Promise.all([startOneProcess(), launchChromium()]);
try {
  const page = await browser.newPage();
  await page.goto(`${system.url}?fps=${fps}&transport=${transport}`);
  await waitForHook(page, "reports", (h) => (h.wt?.reportsReceived ?? 0) + h.reportsReceived > 0);
  await Bun.sleep(3000);
  const t0 = Date.now();
  await Bun.sleep(8000);
  const s = (await readSamples(page)).filter((x) => x.captureTimeMs > t0 && x.presentedAtMs !== null);
  const dec = s.map((x) => x.decodedAtMs - x.captureTimeMs), paint = s.map((x) => x.presentedAtMs! - x.decodedAtMs), g2g = s.map((x) => x.glassToGlassMs!);
  const q = (v: number[]) => `${quantile(v, 0.5).toFixed(1)}/${quantile(v, 0.95).toFixed(1)}/${Math.max(...v).toFixed(1)}`;
  console.log(`${transport} ${fps} fps n=${s.length}: capture→decoded ${q(dec)}, decoded→painted ${q(paint)}, g2g ${q(g2g)}`);
  const big = s.filter((x) => x.glassToGlassMs! > 30).map((x) => `${x.frameId}:${x.glassToGlassMs!.toFixed(0)}`);
  console.log("over 30 ms:", big.join(" "));
  console.log(JSON.stringify(await page.evaluate(() => (globalThis as any).ballstream.wt)));
} finally {
  await browser.close();
  await system.cleanup();
}
