import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as ajvFormats from 'ajv-formats';
import { ErrandError, type TaskTypeInfo } from '@errand/contracts';
import { closeSchema } from '../domain/closed-schema.ts';

// ajv-formats is CommonJS: its default export sits one level down under NodeNext
type FormatsPlugin = (ajv: Ajv2020) => unknown;
const formatsModule = ajvFormats as unknown as { default: FormatsPlugin | { default: FormatsPlugin } };
const addFormats: FormatsPlugin =
  typeof formatsModule.default === 'function' ? formatsModule.default : formatsModule.default.default;

/**
 * Validates params against each type's JSON Schema, compiled once per schema
 * version, strictly: a property the schema does not name is refused, naming it.
 */
export class ParamsValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, { text: string; fn: ValidateFunction }>();

  constructor() {
    addFormats(this.ajv);
  }

  /** Throws `invalid` with details when the params do not fit. */
  check(type: TaskTypeInfo, params: unknown): void {
    const fn = this.compile(type);
    if (fn(params)) return;
    const unknown: string[] = [];
    const details = (fn.errors ?? []).map((e) => {
      const path = `params${e.instancePath.replace(/\//g, '.')}`;
      const extra = (e.params as { unevaluatedProperty?: string; additionalProperty?: string }).unevaluatedProperty ?? (e.params as { additionalProperty?: string }).additionalProperty;
      if (extra !== undefined) {
        unknown.push(`${path}.${extra}`);
        return { path: `${path}.${extra}`, message: `is not a property the schema of ${type.name} names` };
      }
      return { path, message: e.message ?? 'is invalid', ...(e.params && Object.keys(e.params).length ? { params: e.params } : {}) };
    });
    const why = unknown.length ? `: ${[...new Set(unknown)].join(', ')} ${unknown.length === 1 ? 'is not a property' : 'are not properties'} it names` : '';
    throw new ErrandError('invalid', `params do not fit the schema of ${type.name}${why}`, { details });
  }

  private compile(type: TaskTypeInfo): ValidateFunction {
    // another draft's dialect tag would make Ajv2020 refuse the schema, and a repeated $id would clash
    // on recompile: validate by 2020-12 rules, anonymously
    const { $schema: _dialect, $id: _id, ...published } = type.paramsSchema;
    const schema = closeSchema(published);
    const text = JSON.stringify(schema);
    const hit = this.compiled.get(type.name);
    if (hit && hit.text === text) return hit.fn;
    let fn: ValidateFunction;
    try {
      fn = this.ajv.compile(schema);
    } catch (err) {
      throw new ErrandError('internal', `task type ${type.name} publishes a params schema that cannot be used`, { cause: err });
    }
    this.compiled.set(type.name, { text, fn });
    return fn;
  }
}
