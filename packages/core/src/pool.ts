/**
 * Runs `fn` over `items` with at most `limit` calls in flight; resolves when all are done. Give an `fn` that does
 * not reject (it catches and records its errors): a rejection rejects the returned promise at once, while the
 * calls already running, and the items after them, go on.
 *
 * @example
 * ```ts
 * await forEachLimit(segments, 4, async (segment) => runSegment(segment));
 * ```
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
