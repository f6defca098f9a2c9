/**
 * Every span attribute name Errand sets, in one place (like bullmq's
 * `TelemetryAttributes`): services use these keys, never a hand-typed
 * string, so a dashboard's query and the code cannot drift apart.
 */
export const TelemetryAttributes = {
  TaskId: 'errand.task_id',
  Tenant: 'errand.tenant',
  TaskType: 'errand.task_type',
  Attempt: 'errand.attempt',
  /** the event type a span writes or delivers */
  Event: 'errand.event',
  User: 'errand.user',
  /** the NATS API verb of a request */
  Verb: 'errand.verb',
  DeliveryId: 'errand.delivery_id',
  TargetIndex: 'errand.target_index',
  TargetKind: 'errand.target_kind',
  /** how many tries a delivery took */
  Tries: 'errand.tries',
  ErrorCode: 'errand.error_code',
  /** OpenTelemetry's semantic convention for the matched HTTP route */
  HttpRoute: 'http.route',
} as const;

export type TelemetryAttribute = (typeof TelemetryAttributes)[keyof typeof TelemetryAttributes];
