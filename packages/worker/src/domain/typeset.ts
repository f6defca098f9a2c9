import { isToken, TASK_TYPE_RE, typeToken } from '@errand/contracts';

/** What the start-up checks need of one task type. */
export interface TypeSpec {
  name: string;
  /** the pool it is served on (its own, else the worker's) */
  pool: string;
  /** the top-level property names of its params' JSON Schema */
  paramNames: string[];
}

/** The property an MCP tool adds to every type's params (DESIGN.md "Agents: MCP"). */
export const RESERVED_PARAM = 'errand';

/**
 * Why a worker may not serve this set of types, one readable sentence per
 * problem (empty: it may). `known` are the type names already in KV
 * `errand_types`: a new type whose MCP tool name (its `typeToken`) equals a
 * known type's is refused too, since the two would share a tool and a work
 * subject.
 */
export function typeSetProblems(types: TypeSpec[], known: Iterable<string> = []): string[] {
  const problems: string[] = [];
  if (types.length === 0) problems.push('no task types given: pass at least one in `types`');
  const byToken = new Map<string, string>();
  const names = new Set<string>();
  for (const t of types) {
    if (typeof t.name !== 'string' || !TASK_TYPE_RE.test(t.name)) {
      problems.push(`task type name ${JSON.stringify(t.name)} is not valid: it must match ${TASK_TYPE_RE} (a letter, then up to 63 of A-Z a-z 0-9 _ . -)`);
      continue;
    }
    if (names.has(t.name)) {
      problems.push(`task type ${t.name} is given twice`);
      continue;
    }
    names.add(t.name);
    const token = typeToken(t.name);
    const twin = byToken.get(token);
    if (twin) problems.push(`task types ${twin} and ${t.name} would share the MCP tool name and work subject "${token}": rename one`);
    else byToken.set(token, t.name);
    if (!isToken(t.pool)) problems.push(`task type ${t.name}: pool ${JSON.stringify(t.pool)} is not valid (1-64 of A-Z a-z 0-9 _ -)`);
    if (t.paramNames.includes(RESERVED_PARAM)) {
      problems.push(`task type ${t.name}: its params may not name a property "${RESERVED_PARAM}" (MCP tools use it for the task's own options)`);
    }
  }
  for (const k of known) {
    if (names.has(k) || !TASK_TYPE_RE.test(k)) continue;
    const mine = byToken.get(typeToken(k));
    if (mine) problems.push(`task type ${mine} would share the MCP tool name and work subject "${typeToken(k)}" with the registered type ${k}: rename it`);
  }
  return problems;
}
