/**
 * The page's network panel (issue 15, docs/network-lab.md) in real Chromium against `bun start`, used as a person
 * would: a session started with `?down=` runs behind its own 5 % loss (media and signaling count one session
 * link, NACKs are answered) while a second tab on the same server loses nothing; choosing the WAN preset and
 * pressing Apply puts 50 ms on the way down live (glass-to-glass follows); a bad text is refused on the page;
 * "Blackout 1 s" stops the picture and it comes back; the CSV names the conditions in force per sample.
 * Behaviour, not timing.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { quantile } from "@ballstream/testing";
import { readHook, readSamples, waitForHook } from "@ballstream/web/hook-reader";
import { metricSum } from "./harness/viewer-scenario.ts";
import { oneSystemAndChromium } from "./harness/fixture.ts";

const lab = oneSystemAndChromium();

let page: Page;
let other: Page;

async function open(query: string): Promise<Page> {
  const p = await lab.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await p.goto(`${lab.system.url}${query}`);
  const hook = await waitForHook(p, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 10) || h.status === "error");
  if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${lab.system.server.output().slice(-3000)}`);
  return p;
}

const metric = (name: string) => metricSum(lab.system.metricsUrls, name);
const inForce = () => page.getByTestId("net-in-force").innerText();

/** Waits (bounded) until `condition` holds on the page's hook, returning the last hook read. */
async function until(p: Page, what: string, condition: (h: NonNullable<Awaited<ReturnType<typeof readHook>>>) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = (await readHook(p))!;
    if (condition(h)) return h;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (status ${h.status}, ${h.error ?? ""})`);
    await Bun.sleep(100);
  }
}

describe("network panel", () => {
  test("?down=loss=5% is this session's own link: counted, NACKs answered, and another tab loses nothing", async () => {
    page = await open(`?scene=noise&down=${encodeURIComponent("loss=5%")}`);
    other = await open(""); // flat: cheap, so the two tabs do not fight for the CPU
    expect(await inForce()).toBe("in force: down loss=5% · up none");
    expect(await metric('ballstream_media_net_session_links{direction="egress"}')).toBe(1);
    expect(await metric('ballstream_signaling_net_session_links{direction="egress"}')).toBe(1);
    expect(await metric('ballstream_media_net_session_links{direction="ingress"}')).toBe(0);
    const before = (await readHook(page))!;
    await Bun.sleep(4000);
    const [after, otherAfter] = [(await readHook(page))!, (await readHook(other))!];
    const lost = await metric('ballstream_media_net_packets_total{direction="egress",outcome="lost"}');
    console.log(`5 % down: link dropped ${lost} packets; page lost ${after.inbound.packetsLost}, sent ${after.inbound.nackCount} NACKs; other tab lost ${otherAfter.inbound.packetsLost}`);
    expect(lost).toBeGreaterThan(20);
    expect(after.inbound.nackCount).toBeGreaterThan(0);
    expect(after.inbound.packetsLost).toBeLessThan(lost / 2); // retransmitted
    expect(after.inbound.framesDecoded).toBeGreaterThan(before.inbound.framesDecoded + 60);
    expect(otherAfter.inbound.packetsLost).toBe(0);
    expect(otherAfter.inbound.nackCount).toBe(0);
  });

  test("the WAN preset and Set network put +50 ms on the way down, live: the in-force line and glass-to-glass follow", async () => {
    await page.getByTestId("net-preset").selectOption({ label: "WAN: +50 ms each way" });
    expect(await page.getByTestId("net-down").inputValue()).toBe("delay=50ms");
    await page.getByTestId("net-apply").click();
    await page.getByTestId("net-in-force").getByText("down delay=50ms · up delay=50ms").waitFor({ timeout: 5000 });
    expect(await metric('ballstream_media_net_session_links{direction="ingress"}')).toBe(1);
    const since = Date.now();
    await Bun.sleep(3000);
    const later = (await readSamples(page)).filter((s) => s.captureTimeMs > since + 500 && s.glassToGlassMs !== null);
    const g2g = quantile(later.map((s) => s.glassToGlassMs), 0.5);
    const other2g = quantile((await readSamples(other)).slice(-60).map((s) => s.glassToGlassMs), 0.5);
    console.log(`+50 ms down: g2g p50 ${g2g.toFixed(1)} ms over ${later.length} samples; the other tab ${other2g.toFixed(1)} ms`);
    expect(later.length).toBeGreaterThan(30);
    expect(g2g).toBeGreaterThanOrEqual(50); // the link's delay is in every picture
    expect(other2g).toBeLessThan(50);
  });

  test("a bad text is refused on the page, naming the box; the session streams on", async () => {
    await page.getByTestId("net-down").fill("loss=2");
    await page.getByTestId("net-apply").click();
    expect(await page.getByTestId("net-error").innerText()).toMatch(/^Not applied: the down box: .*loss=2/);
    expect(await inForce()).toBe("in force: down delay=50ms · up delay=50ms");
    expect((await readHook(page))!.status).toBe("streaming");
  });

  test("Blackout 1 s: the picture stops, then comes back by itself", async () => {
    // The page's count of frames detected, read every 50 ms from just before the click: the longest stretch without a new frame.
    const counts: Array<{ at: number; decoded: number }> = [];
    const poll = (async () => {
      for (let i = 0; i < 100; i++) {
        counts.push({ at: Date.now(), decoded: (await readHook(page))!.framesDetected }); // per frame, where getStats is per second
        await Bun.sleep(50);
      }
    })();
    await Bun.sleep(300);
    await page.getByTestId("net-blackout").click();
    await poll;
    await page.getByTestId("net-in-force").getByText("blackout=1000ms").waitFor({ timeout: 5000 });
    let longest = 0;
    let since = counts[0]!;
    for (const c of counts) {
      if (c.decoded !== since.decoded) since = c;
      longest = Math.max(longest, c.at - since.at);
    }
    const last = counts.at(-1)!;
    const resumedWith = last.decoded - (counts.find((c) => c.at >= last.at - 1000)?.decoded ?? last.decoded);
    console.log(`blackout: longest stretch without a new frame ${longest} ms; ${resumedWith} frames decoded in the last second of ${last.at - counts[0]!.at} ms`);
    expect(longest).toBeGreaterThanOrEqual(700); // 1 s down, less what was already in flight
    expect(resumedWith).toBeGreaterThan(10);
    expect((await readHook(page))!.status).toBe("streaming");
  });

  test("the CSV names the network in force at each sample", async () => {
    const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download samples (CSV)" }).click()]);
    const [header, ...lines] = (await Bun.file((await file.path())!).text()).trim().split("\n");
    const cells = (row: string) => row.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((c) => c.replace(/^"|"$/g, ""));
    const names = cells(header!);
    for (const name of ["netDown", "netUp", "connection", "gapMs", "channel"]) expect(names).toContain(name);
    const rows = lines.map(cells).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i] ?? ""])));
    expect(rows.every((r) => r.connection === "1" && r.gapMs === "" && r.channel === "")).toBe(true); // one connection throughout, no gap, no channel
    expect(rows.some((r) => r.netDown === "loss=5%" && r.netUp === "")).toBe(true);
    expect(rows.some((r) => r.netDown === "delay=50ms" && r.netUp === "delay=50ms")).toBe(true);
    expect(rows.some((r) => r.netDown === "delay=50ms,blackout=1000ms,blackout-at=0ms")).toBe(true);
  });
});
