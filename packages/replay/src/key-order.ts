/**
 * One key's state in the writer: how many of its records are in flight, and how many buffered or in-flight
 * records carry it. Each record holds the slots of its keys, resolved once when it is buffered, so that batch
 * selection and the in-flight counts touch no map per record.
 */
export class KeySlot {
  /** Records of this key in flight. */
  inFlight = 0;
  /** Records in the writer (buffered or in flight) that carry this key; the slot is dropped at 0. */
  refs = 0;
  /** The selection pass that last saw a record of this key (see {@link KeyOrder.pass}). */
  mark = 0;
  /** The {@link KeyOrder.hold} call that last counted this key (a key listed twice by a record counts once). */
  heldBy = 0;
  /** The slots of a record of this key alone: shared, so a one-key record allocates no array. */
  readonly alone: readonly KeySlot[] = [this];
  constructor(readonly key: string) {}
}

const NO_SLOTS: readonly KeySlot[] = [];

/**
 * Per-key order for the writer: which keys have a record in flight (a later record of such a key waits), and
 * which keys are blocked because one of their records failed for good (a later record of such a key is not sent
 * at all, so that the key's history in the stream has no hole). One home for both rules.
 *
 * Its memory follows the records in the writer, not the source: a key's slot lives while a record of it is
 * buffered or in flight.
 */
export class KeyOrder {
  private readonly slots = new Map<string, KeySlot>();
  /** Blocked keys, each with the error of the record that blocked it. */
  private readonly blocked = new Map<string, Error>();
  private passes = 0;
  private holds = 0;

  constructor(
    /** Keep each key's order (hold a record while an earlier one of its keys is in flight). */
    readonly ordered: boolean,
    /** Block a key once one of its records failed for good. */
    readonly blockOnFailure: boolean,
  ) {}

  /**
   * The slots of a record entering the writer (`keys`, or its partition key alone when `keys` is undefined),
   * counted until {@link unhold}. None unless `ordered`.
   */
  hold(keys: readonly string[] | undefined, partitionKey: string): readonly KeySlot[] {
    if (!this.ordered) return NO_SLOTS;
    if (keys === undefined) {
      const slot = this.slotOf(partitionKey);
      slot.refs++;
      return slot.alone;
    }
    // an aggregate lists hundreds of keys: duplicates are found by a stamp per call, not by searching `out`
    const stamp = ++this.holds;
    const out: KeySlot[] = [];
    for (const k of keys) {
      const slot = this.slotOf(k);
      if (slot.heldBy === stamp) continue;
      slot.heldBy = stamp;
      slot.refs++;
      out.push(slot);
    }
    return out.length === 1 ? out[0]!.alone : out;
  }

  /** A record left the writer (acknowledged, failed, unsent): its slots are no longer counted for it. */
  unhold(slots: readonly KeySlot[]): void {
    for (const slot of slots) {
      if (--slot.refs === 0 && slot.inFlight === 0) this.slots.delete(slot.key);
    }
  }

  private slotOf(key: string): KeySlot {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = new KeySlot(key);
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** A new selection pass: a slot marked with it has an earlier record waiting in this pass. */
  pass(): number {
    return ++this.passes;
  }

  /** Marks the keys of a record sent. */
  acquire(slots: readonly KeySlot[]): void {
    for (const slot of slots) slot.inFlight++;
  }

  /** Marks the keys of a record no longer in flight. */
  release(slots: readonly KeySlot[]): void {
    for (const slot of slots) {
      if (--slot.inFlight === 0 && slot.refs === 0) this.slots.delete(slot.key);
    }
  }

  /** Keys with a record buffered or in flight (each has a slot; no other key has one). */
  get liveKeys(): number {
    return this.slots.size;
  }

  /** Notes that a record of these keys failed for good: with `blockOnFailure`, the keys are blocked from now on. */
  failed(keys: readonly string[], error: Error): void {
    if (!this.blockOnFailure) return;
    for (const k of keys) if (!this.blocked.has(k)) this.blocked.set(k, error);
  }

  /** The first blocked key among `keys` (or `partitionKey` alone when `keys` is undefined), if any. */
  blockedKey(keys: readonly string[] | undefined, partitionKey?: string): string | undefined {
    if (this.blocked.size === 0) return undefined;
    if (keys === undefined)
      return partitionKey !== undefined && this.blocked.has(partitionKey) ? partitionKey : undefined;
    for (const k of keys) if (this.blocked.has(k)) return k;
    return undefined;
  }

  /** Keys blocked so far. */
  get blockedCount(): number {
    return this.blocked.size;
  }
}

/** The keys of a record's slots (for the rare paths that need them: a failure, a blocked key). */
export function keysOf(slots: readonly KeySlot[]): string[] {
  return slots.map((s) => s.key);
}
