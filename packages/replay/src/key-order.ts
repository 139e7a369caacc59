/**
 * Per-key order for the writer: which keys have a record in flight (a later record of such a key waits), and
 * which keys are blocked because one of their records failed for good (a later record of such a key is not sent
 * at all, so that the key's history in the stream has no hole). One home for both rules.
 */
export class KeyOrder {
  private readonly inflight = new Map<string, number>();
  /** Blocked keys, each with the error of the record that blocked it. */
  private readonly blocked = new Map<string, Error>();

  constructor(
    /** Keep each key's order (hold a record while an earlier one of its keys is in flight). */
    readonly ordered: boolean,
    /** Block a key once one of its records failed for good. */
    readonly blockOnFailure: boolean,
  ) {}

  /** Keys with a record in flight, with their counts (empty unless `ordered`). */
  get inFlight(): ReadonlyMap<string, number> {
    return this.inflight;
  }

  /** Marks the keys of a record sent. */
  acquire(keys: readonly string[]): void {
    if (!this.ordered) return;
    for (const k of keys) this.inflight.set(k, (this.inflight.get(k) ?? 0) + 1);
  }

  /** Marks the keys of a record no longer in flight. */
  release(keys: readonly string[]): void {
    if (!this.ordered) return;
    for (const k of keys) {
      const n = (this.inflight.get(k) ?? 1) - 1;
      if (n <= 0) this.inflight.delete(k);
      else this.inflight.set(k, n);
    }
  }

  /** Notes that a record of these keys failed for good: with `blockOnFailure`, the keys are blocked from now on. */
  failed(keys: readonly string[], error: Error): void {
    if (!this.blockOnFailure) return;
    for (const k of keys) if (!this.blocked.has(k)) this.blocked.set(k, error);
  }

  /** The first blocked key among `keys`, if any. */
  blockedKey(keys: readonly string[]): string | undefined {
    if (this.blocked.size === 0) return undefined;
    for (const k of keys) if (this.blocked.has(k)) return k;
    return undefined;
  }

  /** Keys blocked so far. */
  get blockedCount(): number {
    return this.blocked.size;
  }
}
