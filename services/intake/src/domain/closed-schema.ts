type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const COMPOSITION = ['allOf', 'anyOf', 'oneOf'] as const;
const OPEN_KEYS = ['additionalProperties', 'unevaluatedProperties', 'patternProperties'];

function describesProperties(node: Json): boolean {
  if (isObj(node.properties)) return true;
  return COMPOSITION.some((k) => Array.isArray(node[k]) && (node[k] as unknown[]).some((m) => isObj(m) && describesProperties(m)));
}

/**
 * A copy of a params JSON Schema in which every object schema that names its
 * properties, and says nothing of others, refuses properties it does not name
 * (`unevaluatedProperties: false`, so properties named by `allOf`/`anyOf`/
 * `oneOf` members still count). Members of a composition are left open: the
 * schema that composes them is closed instead. A schema that says
 * `additionalProperties` (or names no properties at all: a free-form map) is
 * kept as it is. Workers publish schemas of every shape; params are checked
 * strictly whatever the shape (DESIGN.md "Task types and workers").
 */
export function closeSchema(schema: Json): Json {
  return close(schema, false) as Json;
}

function close(node: unknown, member: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => close(n, false));
  if (!isObj(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' || k === '$defs' || k === 'definitions' || k === 'patternProperties' || k === 'dependentSchemas') {
      out[k] = isObj(v) ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, close(s, false)])) : v;
    } else if ((COMPOSITION as readonly string[]).includes(k) && Array.isArray(v)) {
      out[k] = v.map((m) => close(m, true));
    } else if (k === 'items' || k === 'additionalProperties' || k === 'unevaluatedProperties' || k === 'not' || k === 'if' || k === 'then' || k === 'else' || k === 'contains') {
      out[k] = close(v, false);
    } else if (k === 'prefixItems' && Array.isArray(v)) {
      out[k] = v.map((s) => close(s, false));
    } else {
      out[k] = v;
    }
  }
  if (!member && describesProperties(node) && !OPEN_KEYS.some((k) => k in node)) out.unevaluatedProperties = false;
  return out;
}
