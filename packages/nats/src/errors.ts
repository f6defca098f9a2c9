/** Errors of the NATS kit: each says whether trying again may help. */
export class PublishError extends Error {
  override name = 'PublishError';
  constructor(
    message: string,
    readonly code: 'timeout' | 'no_responders' | 'wrong_last_sequence' | 'api_error' | 'closed',
    readonly retryable: boolean,
    readonly errCode?: number,
  ) {
    super(message);
  }
}

/** JetStream's error code for a failed `Nats-Expected-Last-Subject-Sequence` check. */
export const ERR_WRONG_LAST_SEQUENCE = 10071;

export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof PublishError && err.code === 'wrong_last_sequence';
}
