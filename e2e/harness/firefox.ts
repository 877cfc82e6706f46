/**
 * Headless Firefox ESR (Debian's `/usr/bin/firefox-esr`) driven by puppeteer-core over WebDriver BiDi, never a
 * downloaded browser. Prefs: loopback ICE for WebRTC, no OpenH264 download (offline: Firefox's WebRTC then has
 * no H.264, which the page must say), and no first-run noise. An `http://127.0.0.1` page is a secure context, so
 * WebTransport and WebCodecs are there.
 */
import puppeteer, { type Browser } from "puppeteer-core";

/** The Firefox binary (`FIREFOX_PATH` overrides it). */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

/** Prefs of every test Firefox. */
export const FIREFOX_PREFS: Record<string, unknown> = {
  "media.peerconnection.ice.loopback": true,
  "media.peerconnection.ice.obfuscate_host_addresses": false,
  "media.gmp-manager.updateEnabled": false,
  "media.autoplay.default": 0,
  "browser.shell.checkDefaultBrowser": false,
  "datareporting.policy.dataSubmissionEnabled": false,
};

/** Launches the test Firefox. */
export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({ browser: "firefox", executablePath: FIREFOX_PATH, headless: true, extraPrefsFirefox: FIREFOX_PREFS, timeout: 60_000 });
}
