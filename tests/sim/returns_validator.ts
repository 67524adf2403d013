/**
 * A small validator for the `returns` schemas of the PVE API (apidata.json's JSON-schema dialect): type, properties,
 * optional, items, enum, minimum/maximum, pattern, additionalProperties; booleans are the integers 0/1.
 *
 * Strict on purpose: an object schema that lists properties rejects any other key unless it says
 * `additionalProperties: 1` (PVE's own checker would let them pass) — that catches typos in the simulator.
 * Names like `net[n]` match `net0`, `net1`, ...
 */
import { perlToJsRegex } from "../../scripts/gen_contract.ts";

// deno-lint-ignore no-explicit-any
type Schema = Record<string, any>;

/** Keys PVE really sends but its schema does not declare, allowed per object path (e.g. `[].content`). */
export type Allowance = Set<string>;

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case "null":
      return v === null;
    case "boolean":
      return v === 0 || v === 1;
    case "integer":
      return Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "string":
      return typeof v === "string";
    case "array":
      return Array.isArray(v);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    default:
      return true; // "any" and unknown types
  }
}

function propertyFor(props: Schema, key: string): Schema | undefined {
  if (Object.hasOwn(props, key)) return props[key];
  const m = /^([a-z_-]+)\d+$/i.exec(key);
  return m ? props[`${m[1]}[n]`] : undefined;
}

/**
 * Validates `value` against a returns schema.
 * @param allow keys to tolerate although undeclared, as `<path>.<key>` with array indexes written `[]`
 * @returns the problems found, each prefixed with its path; empty when valid
 */
export function validateReturns(
  schema: Schema | undefined,
  value: unknown,
  allow: Allowance = new Set(),
  path = "",
): string[] {
  if (!schema || typeof schema !== "object") return [];
  const at = path || "(root)";
  const errors: string[] = [];
  const types: string[] = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length && !types.some((t) => typeOk(t, value))) {
    return [`${at}: expected ${types.join("|")}, got ${JSON.stringify(value)?.slice(0, 80)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.map(String).includes(String(value))) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(", ")}`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < Number(schema.minimum)) {
      errors.push(`${at}: ${value} < ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > Number(schema.maximum)) {
      errors.push(`${at}: ${value} > ${schema.maximum}`);
    }
  }
  if (typeof value === "string" && typeof schema.pattern === "string") {
    if (!new RegExp(`^(?:${perlToJsRegex(schema.pattern)})$`).test(value)) {
      errors.push(`${at}: ${JSON.stringify(value)} does not match /${schema.pattern}/`);
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => {
      const sub = validateReturns(schema.items, item, allow, `${path}[]`);
      errors.push(...sub.map((e) => e.replace(`${path}[]`, `${path}[${i}]`)));
    });
  }
  if (typeOk("object", value) && schema.properties && typeof schema.properties === "object") {
    const obj = value as Record<string, unknown>;
    const props = schema.properties as Schema;
    for (const [k, sub] of Object.entries(props)) {
      if (k.endsWith("[n]")) continue;
      if (obj[k] === undefined && !(sub as Schema).optional) errors.push(`${path}.${k}: missing (not optional)`);
    }
    const strict = Object.keys(props).length > 0 && !schema.additionalProperties;
    for (const [k, v] of Object.entries(obj)) {
      const sub = propertyFor(props, k);
      if (!sub) {
        if (strict && !allow.has(`${path}.${k}`)) errors.push(`${path}.${k}: not in the schema`);
        continue;
      }
      if (v === null && sub.type !== "null") {
        errors.push(`${path}.${k}: null (PVE omits optional fields instead)`);
        continue;
      }
      errors.push(...validateReturns(sub, v, allow, `${path}.${k}`));
    }
  }
  return errors;
}
