/** Reading settings from the environment, with clear errors naming the variable. */

/** An integer from `env[name]` in [min, max], or `fallback` when unset or empty. */
export function intEnv(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${raw}: expected an integer in ${min}–${max}`);
  return n;
}

/** A string from `env[name]`, or `fallback` when unset or empty. */
export function stringEnv(env: Record<string, string | undefined>, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? fallback : raw.trim();
}

/** A comma-separated list from `env[name]`, or `fallback` when unset or empty. */
export function listEnv(env: Record<string, string | undefined>, name: string, fallback: readonly string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return [...fallback];
  return raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}
