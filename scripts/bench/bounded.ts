/** Work on many items with at most a few at a time (300 viewer joins at once would each wait behind all the others). */

/** The outcome of one item of {@link mapBounded}: its value, or what it threw. */
export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Runs `fn` on every item, at most `limit` at once, and returns every outcome in the items' order (never throws). */
export async function mapBounded<I, T>(items: readonly I[], limit: number, fn: (item: I, index: number) => Promise<T>): Promise<Settled<T>[]> {
  if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${limit}`);
  const out: Settled<T>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await fn(items[i]!, i) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.floor(limit), items.length) }, worker));
  return out;
}
