/**
 * Small helpers for nested plain objects (configuration trees, JSON files): read, set and list values by key path.
 * @module
 */

/** A nested plain object as read from JSON or built from variables. */
export type Tree = Record<string, unknown>;

/** True for plain objects (not arrays, not null). */
export function isPlainObject(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the value at `parts`, or undefined. */
export function getAt(tree: Tree, parts: readonly string[]): unknown {
  let node: unknown = tree;
  for (const part of parts) {
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

/** Sets the value at `parts`, creating (or replacing non-object) parents. */
export function setAt(tree: Tree, parts: readonly string[], value: unknown): void {
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: Tree = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts[parts.length - 1]!] = value;
}

/** Removes the value at `parts` if present. */
export function deleteAt(tree: Tree, parts: readonly string[]): void {
  const parent = getAt(tree, parts.slice(0, -1));
  if (isPlainObject(parent)) delete parent[parts[parts.length - 1]!];
}

/** Lists `[path parts, value]` of every leaf (anything that is not a plain object). */
export function leaves(tree: Tree, prefix: string[] = []): [string[], unknown][] {
  const out: [string[], unknown][] = [];
  for (const [key, value] of Object.entries(tree)) {
    if (isPlainObject(value)) out.push(...leaves(value, [...prefix, key]));
    else out.push([[...prefix, key], value]);
  }
  return out;
}
