/**
 * The one system and one Chromium most e2e files share: started together before the file's tests, both cleaned up
 * after them (the browser closed, then the system), whatever the tests did; or, for files whose tests each need a
 * system of their own, a system per test and one Chromium for the file.
 */
import { afterAll, afterEach, beforeAll } from "bun:test";
import type { Browser } from "playwright-core";
import { type RunningSystem, launchChromium, startOneProcess } from "@ballstream/testing";

/** A file's system and browser; reading either before they started throws. */
export interface Lab {
  readonly system: RunningSystem;
  readonly browser: Browser;
}

/** How {@link oneSystemAndChromium} starts its parts (the real ones by default; fakes in its own test). */
export interface LabOptions {
  /** Extra environment of the one-process system (`bun start`). */
  readonly env?: Record<string, string>;
  /** The `beforeAll` timeout, start and `setup` together (default: the test runner's). */
  readonly timeoutMs?: number;
  /** What the file needs once both are up (a page open and streaming…), in the same `beforeAll`. */
  readonly setup?: (lab: Lab) => Promise<void>;
  readonly start?: (env: Record<string, string>) => Promise<RunningSystem>;
  readonly launch?: () => Promise<Browser>;
}

/** `part`, or an error naming it when it has not started yet. */
function started<T>(part: T | undefined, what: string): T {
  if (part === undefined) throw new Error(`the e2e ${what} has not started (read it inside a test or a later hook)`);
  return part;
}

/** Registers the `beforeAll` that starts the one-process system and Chromium, and the `afterAll` that stops both. */
export function oneSystemAndChromium({ env = {}, timeoutMs, setup, start = startOneProcess, launch = launchChromium }: LabOptions = {}): Lab {
  let system: RunningSystem | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    [system, browser] = await Promise.all([start(env), launch()]);
    await setup?.(lab);
  }, timeoutMs);
  afterAll(async () => {
    await browser?.close();
    await system?.cleanup();
  });
  const lab: Lab = {
    get system() {
      return started(system, "system");
    },
    get browser() {
      return started(browser, "browser");
    },
  };
  return lab;
}

/** A file's browser and the current test's system, and how a test starts that system. */
export interface LabPerTest extends Lab {
  /** Starts this test's one-process system with `env` (and Chromium, the first time); resolves once both are up. */
  start(env?: Record<string, string>): Promise<Lab>;
}

/** Registers the `afterEach` that cleans up the test's system and the `afterAll` that closes the file's Chromium. */
export function systemPerTest({ start = startOneProcess, launch = launchChromium }: Pick<LabOptions, "start" | "launch"> = {}): LabPerTest {
  let system: RunningSystem | undefined;
  let browser: Browser | undefined;
  afterEach(async () => {
    await system?.cleanup();
    system = undefined;
  });
  afterAll(async () => {
    await browser?.close();
  });
  const lab: LabPerTest = {
    get system() {
      return started(system, "system");
    },
    get browser() {
      return started(browser, "browser");
    },
    async start(env = {}) {
      [system, browser] = await Promise.all([start(env), browser ?? launch()]);
      return lab;
    },
  };
  return lab;
}
