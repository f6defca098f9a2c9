import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { storeLocked } from './errors.ts';

/** Whether a process with this pid is alive (EPERM: alive, someone else's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holder(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Take the pid lock `file` for this process: PGlite's folder can be opened by
 * one process only, and two would corrupt it. A lock left by a dead process
 * is taken over. Returns its release. `dir` names the folder in the error.
 */
export function takeLock(file: string, dir: string): () => void {
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        if (holder(file) === process.pid) unlinkSync(file);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = holder(file);
    // our own pid counts as held: a second open in this process would corrupt the folder as well
    if (pid !== undefined && isAlive(pid)) throw storeLocked(dir, pid);
    try {
      unlinkSync(file); // stale (its process is gone) or unreadable: take it over
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw storeLocked(dir, holder(file) ?? 0);
}
