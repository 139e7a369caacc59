/**
 * Where a long-running job keeps its progress so that it can resume after a restart: a file, a DynamoDB item,
 * memory in tests. `T` is the job's own JSON-serialisable state (a stream consumer's shard positions, a replay's
 * position). Implementations may be synchronous or asynchronous; callers always `await`.
 *
 * @example
 * ```ts
 * const store: CheckpointStore<{ position: number }> = {
 *   load: async () => JSON.parse(await readFile('progress.json', 'utf8').catch(() => 'null')) ?? undefined,
 *   save: (state) => writeFile('progress.json', JSON.stringify(state)),
 * };
 * ```
 */
export interface CheckpointStore<T> {
  /** The saved state, or `undefined` when none was saved yet (start from the beginning). */
  load(): Promise<T | undefined> | T | undefined;
  /** Saves the state; called as the job advances, never concurrently. */
  save(state: T): Promise<void> | void;
}
