/** The partition (0..count-1) of a task: FNV-1a of its id, stable across processes and restarts. */
export function partitionOf(taskId: string, count: number): number {
  if (count <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    h ^= taskId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/** How many partitions one of `members` notifiers should hold: an even share, rounded up. */
export function fairShare(partitions: number, members: number): number {
  return Math.ceil(partitions / Math.max(1, members));
}
