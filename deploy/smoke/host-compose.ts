/**
 * compose.yaml for host networking: Compose v1 refuses `network_mode: host` together with published ports, and an
 * override file cannot remove them there, so the smoke test runs a copy without `ports` (JSON, which Compose reads
 * as YAML). Usage: `bun deploy/smoke/host-compose.ts compose.yaml > out.json`.
 */

/** The parts of a Compose file this touches. */
export interface ComposeFile {
  services: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** A copy of `compose` with every service's `ports` removed; nothing else changes. */
export function withoutPorts(compose: ComposeFile): ComposeFile {
  const services = Object.fromEntries(
    Object.entries(compose.services).map(([name, service]) => {
      const { ports: _ports, ...rest } = service;
      return [name, rest];
    }),
  );
  return { ...compose, services };
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: bun deploy/smoke/host-compose.ts <compose.yaml>");
    process.exit(2);
  }
  console.log(JSON.stringify(withoutPorts(Bun.YAML.parse(await Bun.file(file).text()) as ComposeFile), null, 2));
}
