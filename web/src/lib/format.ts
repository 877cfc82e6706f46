/** How the page writes its figures. */

/** `v` with `digits` decimals, or "–" when there is no finite value. */
export function formatNumber(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}
