import { eventSchema, type ErrandEvent, type EventOf, type EventPayload, type EventType } from './events.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validate and serialise an event (validation on write). Throws on a broken event: a bug. */
export function encodeEvent(e: ErrandEvent): Uint8Array {
  const parsed = eventSchema.safeParse(e);
  if (!parsed.success) {
    throw new Error(`refusing to write an invalid ${e.type} event: ${parsed.error.message}`);
  }
  return encoder.encode(JSON.stringify(e));
}

/** Parse and validate an event read from the log (validation on read). Never throws. */
export function decodeEvent(data: Uint8Array): Decoded<ErrandEvent> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  return validateEvent(json);
}

/**
 * Validate an event already parsed from JSON (validation on read, for a reader
 * that parsed the body itself to decide whether it needs the event at all).
 * Never throws.
 */
export function validateEvent(json: unknown): Decoded<ErrandEvent> {
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error.message };
  return { ok: true, value: parsed.data };
}

/** Build an event with its common fields. */
export function makeEvent<T extends EventType>(
  type: T,
  task: { taskId: string; tenant: string },
  at: Date | string,
  payload: EventPayload<T>,
): EventOf<T> {
  const iso = typeof at === 'string' ? at : at.toISOString();
  return { type, taskId: task.taskId, tenant: task.tenant, at: iso, ...payload } as unknown as EventOf<T>;
}

/**
 * The `Nats-Msg-Id` of an event: the same logical event always gets the same
 * id, so a retried publish is stored once. `extra` tells apart events that may
 * legitimately repeat (progress number, delivery id, request id).
 */
export function eventMsgId(e: { type: string; taskId: string; attempt?: number }, extra?: string | number): string {
  const base = `${e.taskId}:${e.type}:${e.attempt ?? 0}`;
  return extra === undefined ? base : `${base}:${extra}`;
}

/**
 * The `Nats-Msg-Id` of attempt `attempt`'s work message: a re-sent dispatch
 * (a new leader, a retry of a failed send) is stored once within the
 * de-duplication window.
 */
export function workMsgId(taskId: string, attempt: number): string {
  return `work:${taskId}:${attempt}`;
}

/**
 * A delivery's id: `<taskId>-<seq of the delivered event>-<target index>`.
 * Receivers de-duplicate on it (webhook header, `nats` msgID, email Message-ID).
 */
export function deliveryId(taskId: string, seq: number, index: number): string {
  return `${taskId}-${seq}-${index}`;
}

/** Read a delivery id back (task ids may contain `-`, so parse from the end). */
export function parseDeliveryId(id: string): { taskId: string; seq: number; index: number } | undefined {
  const m = /^(.+)-(\d+)-(\d+)$/.exec(id);
  if (!m) return undefined;
  return { taskId: m[1]!, seq: Number(m[2]), index: Number(m[3]) };
}

/** The `Nats-Msg-Id` of a `delivered` / `delivery-failed` event: one of each per delivery. */
export function deliveryMsgId(id: string, type: 'delivered' | 'delivery-failed'): string {
  return `${id}:${type}`;
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
export function decodeJson(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}
