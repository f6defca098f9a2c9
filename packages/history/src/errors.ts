/**
 * The store's errors beyond the two of its interface (StaleProjectorError,
 * BadCursor in types.ts): each with a stable code and whether a retry helps.
 */
export class HistoryStoreError extends Error {
  override name = 'HistoryStoreError';
  constructor(
    readonly code: 'store_locked' | 'schema_too_new',
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The embedded store's folder is open in another live process (PGlite allows one). */
export function storeLocked(dir: string, pid: number): HistoryStoreError {
  return new HistoryStoreError(
    'store_locked',
    `the embedded history store in ${dir} is open in another process (pid ${pid}); ` +
      'an embedded store serves one process: to share the history between intakes, set ERRAND_DATABASE_URL to a PostgreSQL server',
    false,
  );
}

/** The database was written by a newer version of this package. */
export function schemaTooNew(found: number, known: number): HistoryStoreError {
  return new HistoryStoreError('schema_too_new', `the history store has schema version ${found}; this version knows up to ${known}`, false);
}
