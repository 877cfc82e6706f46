/**
 * Reading the page's test hook (`window.ballstream`) from a Playwright (Chromium) or puppeteer (Firefox) page, for
 * tests and benchmarks: both evaluate a function in the page.
 */
import type { BallstreamHook } from "../src/lib/hook.ts";
import type { ExportedSample } from "../src/lib/samples.ts";

/** The page's test hook, as far as the tests read it (a JSON-safe snapshot). */
export type HookSnapshot = Pick<BallstreamHook, "status" | "sessionId" | "error" | "settings" | "channel" | "detectionPath" | "coordinatesSender" | "framesDetected" | "framesSent" | "reportsReceived" | "lastReport" | "glassToGlassMs" | "glassToGlassExpectedMs" | "browserCapture" | "inbound" | "paths" | "wt" | "reconnect" | "resumes">;

/** What the readers need of a browser page (Playwright's and puppeteer's `Page` both have it). */
export interface EvaluatingPage {
  evaluate<T>(fn: () => T | Promise<T>): Promise<T>;
}

/** A snapshot of `window.ballstream` (null until the page has created it). */
export function readHook(page: EvaluatingPage): Promise<HookSnapshot | null> {
  return page.evaluate(() => {
    const hook = (globalThis as unknown as { ballstream?: BallstreamHook }).ballstream;
    if (!hook) return null;
    const { status, sessionId, error, settings, channel, detectionPath, coordinatesSender, framesDetected, framesSent, reportsReceived, lastReport, glassToGlassMs, glassToGlassExpectedMs, browserCapture, inbound, paths, wt, reconnect, resumes } = hook;
    return { status, sessionId, error, settings, channel, detectionPath, coordinatesSender, framesDetected, framesSent, reportsReceived, lastReport, glassToGlassMs, glassToGlassExpectedMs, browserCapture, inbound, paths, wt, reconnect, resumes };
  });
}

/** Polls the hook until `accept` holds (at most `timeoutMs`); throws with the last snapshot otherwise. */
export async function waitForHook(page: EvaluatingPage, what: string, accept: (hook: HookSnapshot) => boolean, timeoutMs = 30_000): Promise<HookSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let hook: HookSnapshot | null = null;
  while (Date.now() < deadline) {
    hook = await readHook(page);
    if (hook && accept(hook)) return hook;
    await Bun.sleep(200);
  }
  throw new Error(`page never reached "${what}" within ${timeoutMs} ms; last hook: ${JSON.stringify(hook)}`);
}

/** A copy of the page's samples (`window.ballstream.samples()`), or none before the hook exists. */
export function readSamples(page: EvaluatingPage): Promise<ExportedSample[]> {
  return page.evaluate(() => (globalThis as unknown as { ballstream?: BallstreamHook }).ballstream?.samples() ?? []);
}

/** A copy of the WebTransport path's samples (`window.ballstream.wtSamples()`). */
export function readWtSamples(page: EvaluatingPage): Promise<ExportedSample[]> {
  return page.evaluate(() => (globalThis as unknown as { ballstream?: BallstreamHook }).ballstream?.wtSamples() ?? []);
}
