/**
 * List cursors: opaque to clients, they carry the submit sequence of the last
 * item of a page (pages run newest first, so the next page starts below it).
 */
export function encodeCursor(submitSeq: number): string {
  return btoa(`s:${submitSeq}`).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The submit sequence in a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  try {
    const text = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const m = /^s:(\d{1,15})$/.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
