/** Naming and packing of the project archive (`bun run archive -- --name "Full Name"`). */

/** Lower-case ASCII slug of a person's name: accents folded, runs of other characters become one `-`. */
export function nameSlug(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (slug === "") throw new Error(`name "${name}" has no letters or digits to build a file name from`);
  return slug;
}

/** `ballstream-<slug>-<YYYY-MM-DD>.tar.gz` for `date` (UTC). */
export function archiveFileName(name: string, date: Date): string {
  return `ballstream-${nameSlug(name)}-${date.toISOString().slice(0, 10)}.tar.gz`;
}

/** The value of `--name` in `argv` (`--name X` or `--name=X`), or undefined. */
export function nameArgument(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--name") return argv[i + 1];
    if (a.startsWith("--name=")) return a.slice("--name=".length);
  }
  return undefined;
}
