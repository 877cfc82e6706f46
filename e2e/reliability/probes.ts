/** What the reliability tests read from running processes: labelled metrics, /proc and nats-server monitoring. */
import { readFileSync, readdirSync } from "node:fs";

/** The value of one labelled sample (`name{a="x",b="y"}`) at a `/metrics` URL; 0 when absent. */
export async function metricSample(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(url)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length, line.lastIndexOf(" "));
    if (wanted.every((w) => labelText.includes(w))) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Threads of a process (/proc/<pid>/task), and its resident memory in MiB (VmRSS). */
export function processFigures(pid: number): { threads: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return { threads: readdirSync(`/proc/${pid}/task`).length, rssMiB: rssKb / 1024 };
}

/** Subscriptions nats-server holds across all clients (`/subsz`). */
export async function natsSubscriptions(monitorUrl: string): Promise<number> {
  const subsz = (await (await fetch(new URL("subsz", monitorUrl))).json()) as { num_subscriptions: number };
  return subsz.num_subscriptions;
}

/** Polls `read` until `accept` holds (at most `timeoutMs`); returns the last value either way. */
export async function settle<T>(read: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await Bun.sleep(200);
    value = await read();
  }
  return value;
}
