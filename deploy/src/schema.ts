/**
 * Validates Kubernetes objects against the API's JSON schemas, as compiled into the npm package
 * `kubernetes-models` (types, required fields, enums, formats). Unknown fields are not reported by those schemas.
 */
import { type K8sObject, objectName } from "./kustomize.ts";

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/** The `kubernetes-models` module of an apiVersion: `v1` → `kubernetes-models/v1`, `apps/v1` → `kubernetes-models/apps/v1`. */
export function modelModule(apiVersion: string): string {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) throw new Error(`malformed apiVersion ${JSON.stringify(apiVersion)}`);
  return `kubernetes-models/${apiVersion}`;
}

/** Schema errors of one object (empty when valid), each prefixed with `Kind/name`. */
export async function schemaErrors(o: K8sObject): Promise<string[]> {
  let model: ModelClass | undefined;
  try {
    const mod = (await import(modelModule(o.apiVersion))) as Record<string, unknown>;
    model = mod[o.kind] as ModelClass | undefined;
  } catch (err) {
    return [`${objectName(o)}: no schema for ${o.apiVersion}: ${(err as Error).message}`];
  }
  if (typeof model !== "function") return [`${objectName(o)}: no schema for ${o.apiVersion} ${o.kind}`];
  try {
    new model(o).validate();
    return [];
  } catch (err) {
    return [`${objectName(o)}: ${(err as Error).message}`];
  }
}

/** Schema errors of all objects. */
export async function validateAll(objects: readonly K8sObject[]): Promise<string[]> {
  return (await Promise.all(objects.map(schemaErrors))).flat();
}
