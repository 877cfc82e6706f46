/** oneSystemAndChromium with fakes: both parts start before the tests, are readable in them, and stop after. */
import { describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { RunningSystem } from "@ballstream/testing";
import { oneSystemAndChromium, systemPerTest } from "./fixture.ts";

const calls: string[] = [];
const fakeSystem = { url: "http://fake/", cleanup: async () => void calls.push("cleanup") } as unknown as RunningSystem;
const fakeBrowser = { close: async () => void calls.push("close") } as unknown as Browser;

describe("a file that uses the fixture", () => {
  const lab = oneSystemAndChromium({
    env: { A: "1" },
    start: async (env) => (calls.push(`start ${JSON.stringify(env)}`), fakeSystem),
    launch: async () => (calls.push("launch"), fakeBrowser),
    setup: async (l) => void calls.push(`setup ${l.system.url}`),
  });

  test("its tests see the started system and browser, set up once both were up", () => {
    expect([lab.system, lab.browser]).toEqual([fakeSystem, fakeBrowser]);
    expect(calls).toEqual(['start {"A":"1"}', "launch", "setup http://fake/"]);
  });
});

test("after the file's tests: the browser is closed, then the system cleaned up", () => {
  expect(calls.slice(3)).toEqual(["close", "cleanup"]);
});

describe("reading a part before its beforeAll ran", () => {
  const lab = oneSystemAndChromium({ start: async () => fakeSystem, launch: async () => fakeBrowser });
  const thrown = (read: () => unknown) => {
    try {
      read();
      return "no error";
    } catch (err) {
      return String(err);
    }
  };
  const early = [thrown(() => lab.system), thrown(() => lab.browser)]; // while the file is being collected

  test("throws, naming the part", () => {
    expect(early[0]).toMatch(/the e2e system has not started/);
    expect(early[1]).toMatch(/the e2e browser has not started/);
  });
});

describe("a file whose tests each start a system", () => {
  const log: string[] = [];
  let n = 0;
  const lab = systemPerTest({
    start: async (env) => {
      const id = ++n;
      log.push(`start ${id} ${JSON.stringify(env)}`);
      return { url: `http://fake-${id}/`, cleanup: async () => void log.push(`cleanup ${id}`) } as unknown as RunningSystem;
    },
    launch: async () => (log.push("launch"), { close: async () => void log.push("close") } as unknown as Browser),
  });

  test("the first test's system, with its environment, and the browser once", async () => {
    expect(() => lab.system).toThrow(/has not started/);
    expect((await lab.start({ B: "2" })).system.url).toBe("http://fake-1/");
    expect(log).toEqual(['start 1 {"B":"2"}', "launch"]);
  });

  test("the next test: the last system was cleaned up after its test, a new one starts, the same browser", async () => {
    expect(log.at(-1)).toBe("cleanup 1");
    expect(() => lab.system).toThrow(/has not started/);
    await lab.start();
    expect([lab.system.url, log.filter((l) => l === "launch").length]).toEqual(["http://fake-2/", 1]);
  });
});
