/** Waiting for a started system to serve. */
import type { ServiceProcess } from "./service-process.ts";

/**
 * Polls `GET <baseUrl>readyz` until it answers 200 (at most `timeoutMs`). Fails early, with the processes'
 * output, when one of them exits.
 */
export async function waitForReady(baseUrl: string, processes: readonly ServiceProcess[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    for (const p of processes) {
      const code = await p.exited(0);
      if (code !== null) throw new Error(`${p.name} exited with ${code} before it was ready:\n${p.output().slice(-4000)}`);
    }
    try {
      const r = await fetch(new URL("readyz", baseUrl), { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
      last = `${r.status} ${await r.text()}`;
    } catch (err) {
      last = String(err);
    }
    await Bun.sleep(200);
  }
  throw new Error(`${baseUrl} not ready within ${timeoutMs} ms (${last}):\n${processes.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join("\n")}`);
}
