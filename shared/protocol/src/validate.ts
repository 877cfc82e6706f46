/** Tiny validators for untrusted JSON: each returns the typed value or throws a {@link ProtocolError}. */
import { ProtocolError, capText } from "./errors.ts";

/** `value` as a plain object, or a bad_request error naming `what`. */
export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError("bad_request", `${what} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** `value` as a string of at most `maxLength` characters matching `pattern` (if given). */
export function asString(value: unknown, what: string, maxLength: number, pattern?: RegExp): string {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength || (pattern && !pattern.test(value))) {
    throw new ProtocolError("bad_request", `${what} must be a non-empty string of at most ${maxLength} characters${pattern ? ` matching ${pattern}` : ""}`);
  }
  return value;
}

/** `value` as a finite number in [min, max], and an integer when `integer` is set. */
export function asNumber(value: unknown, what: string, min: number, max: number, integer = false): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ProtocolError("bad_request", `${what} must be ${integer ? "an integer" : "a number"} in ${min}–${max}`);
  }
  return value;
}

/** Like {@link asNumber}, but `undefined` stays `undefined`. */
export function optionalNumber(value: unknown, what: string, min: number, max: number, integer = false): number | undefined {
  return value === undefined ? undefined : asNumber(value, what, min, max, integer);
}

/** Longest piece of a client's value quoted in an error message. */
const QUOTED_INPUT_CHARS = 32;

/**
 * A short, safe description of a client's value for an error message: a string quoted and cut to 32
 * characters, anything else by its type. Error texts must never grow with client input.
 */
export function describeInput(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(capText(value, QUOTED_INPUT_CHARS));
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
