/**
 * The field names a schema accepts at a path, so a 400 for an unknown field can suggest the
 * name that was probably meant (`validation.ts`). Walks zod 4 schema definitions: through
 * wrappers (optional, default, pipe, lazy, …), object shapes, array and tuple items, record
 * values, and every branch of a union or intersection. Anything it cannot follow yields no
 * names rather than an error: a suggestion is a courtesy, never a reason to fail.
 * @module
 */
import type { z } from "zod";

/** Bounds the wrappers followed at one node, so a lazy schema that returns itself ends. */
const UNWRAP_MAX_DEPTH = 32;

/** The keys of every object schema `schema` may be at `path` (its issue path); empty when none. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let nodes = objectsOf(schema);
  for (const segment of path) nodes = nodes.flatMap((node) => childrenAt(node, segment)).flatMap((child) => objectsOf(child));
  return [...new Set(nodes.flatMap((node) => (node._zod.def.type === "object" ? Object.keys(node._zod.def.shape) : [])))];
}

/** The schemas `schema` stands for once wrappers, unions and intersections are looked through. */
function objectsOf(schema: z.core.$ZodType, depth = 0): z.core.$ZodTypes[] {
  if (depth > UNWRAP_MAX_DEPTH) return [];
  const node = schema as z.core.$ZodTypes;
  const def = node._zod.def;
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "catch":
    case "readonly":
    case "promise":
      return objectsOf(def.innerType, depth + 1);
    case "lazy":
      return objectsOf(def.getter(), depth + 1);
    case "pipe":
      return [...objectsOf(def.in, depth + 1), ...objectsOf(def.out, depth + 1)];
    case "union":
      return def.options.flatMap((option) => objectsOf(option, depth + 1));
    case "intersection":
      return [...objectsOf(def.left, depth + 1), ...objectsOf(def.right, depth + 1)];
    default:
      return [node];
  }
}

/** The schemas one path segment leads to from `node` (already looked through). */
function childrenAt(node: z.core.$ZodTypes, segment: PropertyKey): z.core.$ZodType[] {
  const def = node._zod.def;
  switch (def.type) {
    case "object": {
      const child = typeof segment === "string" && Object.hasOwn(def.shape, segment) ? def.shape[segment] : def.catchall;
      return child ? [child] : [];
    }
    case "array":
      return [def.element];
    case "tuple": {
      const item = typeof segment === "number" ? (def.items[segment] ?? def.rest) : null;
      return item ? [item] : [];
    }
    case "record":
      return [def.valueType];
    default:
      return [];
  }
}
