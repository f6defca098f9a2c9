import { headers as makeHeaders, type Msg } from '@nats-io/transport-node';
import { Svcm, type Service } from '@nats-io/services';
import {
  API_VERBS,
  apiSubjectTenant,
  ErrandError,
  encodeJson,
  parseJsonBody,
  idBodySchema,
  invalid,
  isToken,
  natsCancelBodySchema,
  subjects,
  type ApiVerb,
} from '@errand/contracts';
import { extractTrace, inSpan, SpanKind, TelemetryAttributes } from '@errand/telemetry';
import type { IntakeContext } from '../context.ts';
import { submit } from '../ops/submit.ts';
import { submitBatch } from '../ops/batch.ts';
import { cancel, history, retry, status } from '../ops/tasks.ts';
import { list } from '../ops/queries.ts';
import { toErrandError } from '../ops/errors.ts';

export const SERVICE_NAME = 'errand';
const ACCEPTED: ReadonlySet<ApiVerb> = new Set(['submit', 'submit-batch', 'cancel', 'retry']);
const decoder = new TextDecoder();

/** The NATS micro service `errand`: one endpoint per verb on `errand.api.*.<verb>`. */
export async function startApi(ctx: IntakeContext, version: string): Promise<Service> {
  const svc = await new Svcm(ctx.nc).add({
    name: SERVICE_NAME,
    version,
    description: 'Errand: background tasks for AI agents (same verbs as the HTTP API)',
  });
  for (const verb of API_VERBS) {
    svc.addEndpoint(verb, {
      subject: subjects.apiWildcard(verb),
      handler: (err, msg) => {
        if (err) {
          ctx.log.error('NATS API endpoint stopped', { verb, err });
          return;
        }
        void answer(ctx, verb, msg);
      },
    });
  }
  return svc;
}

/** A request body: JSON, nested at most 64 levels (checked before parsing); empty is `{}`. */
function parseBody(data: Uint8Array): unknown {
  return parseJsonBody(decoder.decode(data)) ?? {};
}

/** The tenant of a request, from its subject; with API keys configured, only the tenants they name. */
function tenantOf(ctx: IntakeContext, subject: string): string {
  const tenant = apiSubjectTenant(subject);
  if (!isToken(tenant)) throw new ErrandError('invalid', 'the tenant in the subject is not a valid token');
  if (!ctx.config.devMode && !servedTenants(ctx).has(tenant)) {
    throw new ErrandError('unauthorized', `tenant "${tenant}" is not configured (ERRAND_API_KEYS)`);
  }
  return tenant;
}

const tenantSets = new WeakMap<object, Set<string>>();
function servedTenants(ctx: IntakeContext): Set<string> {
  let set = tenantSets.get(ctx.config);
  if (!set) tenantSets.set(ctx.config, (set = new Set(ctx.config.apiKeys.values())));
  return set;
}

function idOf(body: unknown): string {
  const p = idBodySchema.safeParse(body);
  if (!p.success) throw invalid('the body must be {"id": "<task id>"}', p.error);
  return p.data.id;
}

async function dispatch(ctx: IntakeContext, verb: ApiVerb, tenant: string, body: unknown): Promise<unknown> {
  switch (verb) {
    case 'submit':
      return await submit(ctx, tenant, body);
    case 'submit-batch':
      return await submitBatch(ctx, tenant, body);
    case 'status':
      return await status(ctx, tenant, idOf(body));
    case 'history':
      return await history(ctx, tenant, idOf(body));
    case 'retry':
      return await retry(ctx, tenant, idOf(body));
    case 'list':
      return await list(ctx, tenant, body);
    case 'cancel': {
      const p = natsCancelBodySchema.safeParse(body);
      if (!p.success) throw invalid('the cancel body does not fit its schema', p.error);
      const { id, ...rest } = p.data;
      return await cancel(ctx, tenant, id, rest);
    }
    default: {
      const never: never = verb;
      return never;
    }
  }
}

/** Answer one request: always a JSON body (an error too), the HTTP status in `Errand-Status`. */
async function answer(ctx: IntakeContext, verb: ApiVerb, msg: Msg): Promise<void> {
  let code = ACCEPTED.has(verb) ? 202 : 200;
  let body: unknown;
  try {
    const tenant = tenantOf(ctx, msg.subject);
    if (msg.data.length > ctx.config.ERRAND_BODY_LIMIT) throw new ErrandError('too_large', 'the request body is over the size limit');
    const req = parseBody(msg.data);
    body = await inSpan(`errand.${verb}`, extractTrace(msg.headers), { [TelemetryAttributes.Tenant]: tenant, [TelemetryAttributes.Verb]: verb }, () =>
      dispatch(ctx, verb, tenant, req),
    SpanKind.SERVER);
  } catch (err) {
    const e = toErrandError(err, ctx.connection.up);
    if (e.cause !== undefined && (e.code === 'internal' || e.code === 'unavailable')) {
      ctx.log[e.code === 'internal' ? 'error' : 'warn']('NATS API request failed', { verb, code: e.code, err: e.cause as Error });
    }
    code = e.status;
    body = e.toBody();
  }
  try {
    const reply = boundedReply(ctx, verb, code, body);
    const h = makeHeaders();
    h.set('Errand-Status', String(reply.code));
    msg.respond(reply.data, { headers: h });
  } catch (err) {
    ctx.log.warn('could not answer a NATS API request', { verb, err });
  }
}

/** Room left in a message for the headers and the protocol line. */
const REPLY_OVERHEAD = 1_024;

/**
 * A reply never exceeds the server's `max_payload` (NATS would drop it and
 * the caller would wait for nothing): a body too large becomes a `too_large`
 * error body that says where to read the whole answer.
 */
function boundedReply(ctx: IntakeContext, verb: ApiVerb, code: number, body: unknown): { code: number; data: Uint8Array } {
  const data = encodeJson(body);
  const limit = (ctx.nc.info?.max_payload ?? 1024 * 1024) - REPLY_OVERHEAD;
  if (data.length <= limit) return { code, data };
  const e = new ErrandError('too_large', `the ${verb} reply would be ${data.length} bytes, over the NATS limit of ${limit}`, {
    details: {
      bytes: data.length,
      maxPayload: limit,
      hint: verb === 'list' ? 'ask for fewer items (limit)' : 'read large results over HTTP: GET /v1/tasks/:id/result',
    },
  });
  return { code: e.status, data: encodeJson(e.toBody()) };
}
