import type { ShardRateLimiter } from './rate-limiter.js';

/** What batch selection needs to know of a buffered record. */
export interface Selectable {
  /** Request bytes (data + partition key). */
  size: number;
  /** Keys whose order the record keeps. */
  keys: readonly string[];
  /** Bucket of the rate limiter (the shard). */
  shard: string;
  /** Not before this time (ms): backing off after a failure. */
  notBefore: number;
}

/** The next batch, whether the limits filled it, and when a skipped record may go. */
export interface Selection<U> {
  units: U[];
  full: boolean;
  wakeAt: number | undefined;
}

/** Limits of one `PutRecords` request. */
export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
}

/**
 * Picks the next `PutRecords` batch from the buffer, in buffer order: a record is skipped while it backs off, while
 * an earlier record of one of its keys is in flight or waiting (with `ordered`), or while its shard's rate budget
 * is spent. Pure: it reserves rate budget for the batch but takes none.
 */
export function selectBatch<U extends Selectable>(
  pending: readonly U[],
  now: number,
  limits: BatchLimits,
  order: { ordered: boolean; inFlight: ReadonlyMap<string, number> },
  limiter: ShardRateLimiter | undefined,
): Selection<U> {
  // keys held back in this pass (the in-flight ones are looked up where they are: no copy per batch)
  const blocked = new Set<string>();
  const inFlight = order.inFlight;
  const held = (keys: readonly string[]): boolean => {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (blocked.has(k) || inFlight.has(k)) return true;
    }
    return false;
  };
  const reserved = new Map<string, { records: number; bytes: number }>();
  const units: U[] = [];
  let bytes = 0;
  let full = false;
  let wakeAt: number | undefined;
  for (const u of pending) {
    if (units.length >= limits.maxRecords || bytes + u.size > limits.maxBytes) {
      full = true;
      break;
    }
    let skip = false;
    if (u.notBefore > now) {
      skip = true;
      wakeAt = minDefined(wakeAt, u.notBefore);
    } else if (order.ordered && held(u.keys)) {
      skip = true;
    } else if (limiter) {
      const r = reserved.get(u.shard) ?? { records: 0, bytes: 0 };
      const wait = limiter.waitMs(u.shard, u.size, r, now);
      if (wait > 0) {
        skip = true;
        wakeAt = minDefined(wakeAt, now + wait);
      } else {
        r.records++;
        r.bytes += u.size;
        reserved.set(u.shard, r);
      }
    }
    // a record waiting holds back the later records of its keys
    if (order.ordered) for (let i = 0; i < u.keys.length; i++) blocked.add(u.keys[i]!);
    if (skip) continue;
    units.push(u);
    bytes += u.size;
  }
  return { units, full, wakeAt };
}

export function minDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}
