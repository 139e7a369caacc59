import type { KeySlot } from './key-order.js';
import type { ShardRateLimiter } from './rate-limiter.js';

/** What batch selection needs to know of a buffered record. */
export interface Selectable {
  /** Request bytes (data + partition key). */
  size: number;
  /** The slots of the keys whose order the record keeps (none when order is not kept). */
  slots: readonly KeySlot[];
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
 * an earlier record of one of its keys is in flight or seen earlier in this pass (a record has key slots only
 * when order is kept), or while its shard's rate budget is spent. It reserves rate budget for the batch but takes
 * none; it marks the key slots with `pass` (a number new for each call: `KeyOrder.pass()`).
 */
export function selectBatch<U extends Selectable>(
  pending: readonly U[],
  now: number,
  limits: BatchLimits,
  pass: number,
  limiter: ShardRateLimiter | undefined,
): Selection<U> {
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
    } else if (held(u.slots, pass)) {
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
    // a record seen in this pass (sent in it, or waiting) holds back the later records of its keys
    const slots = u.slots;
    for (let i = 0; i < slots.length; i++) slots[i]!.mark = pass;
    if (skip) continue;
    units.push(u);
    bytes += u.size;
  }
  return { units, full, wakeAt };
}

/** True when one of the keys has a record in flight, or an earlier record in this pass. */
function held(slots: readonly KeySlot[], pass: number): boolean {
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    if (slot.inFlight > 0 || slot.mark === pass) return true;
  }
  return false;
}

export function minDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}
