// Helpers of the lease tests: a writer of per-key counting values, and the check of what was delivered.
import { expect } from 'vitest';
import type { FakeStreams } from './fake-streams.js';
import { makeRecord } from './fake-streams.js';
export const shardName = (i: number) => `shard-${String(i).padStart(2, '0')}`;
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds; on time-out, throws with what `describe` says of the state then. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  describe: () => unknown = () => '',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(await describe())}`);
    await sleep(20);
  }
}

export interface Delivery {
  worker: string;
  shardId: string;
  sequenceNumber: string;
  key: string;
  v: number;
}

/** Puts the next value of every key of `shard` (key k-<shard>-<j>, values counting up per key). */
export function writer(fake: FakeStreams) {
  const next = new Map<string, number>();
  const expected: { key: string; v: number }[] = [];
  return {
    expected,
    put(shardId: string, keyShard: string, keys = 3) {
      for (let j = 0; j < keys; j++) {
        const key = `k-${keyShard}-${j}`;
        const v = (next.get(key) ?? 0) + 1;
        next.set(key, v);
        fake.put(shardId, makeRecord('MODIFY', key, { id: { S: key }, v: { N: String(v) } }));
        expected.push({ key, v });
      }
    },
  };
}

/** Every (key, value) delivered at least once, and each key's values in order once repeats are taken out. */
export function checkDelivered(expected: { key: string; v: number }[], deliveries: Delivery[]) {
  const got = new Set(deliveries.map((d) => `${d.key}=${d.v}`));
  expect(expected.filter((e) => !got.has(`${e.key}=${e.v}`))).toEqual([]);
  const byKey = new Map<string, number[]>();
  for (const d of deliveries) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d.v]);
  for (const [key, values] of byKey) {
    // A repeat goes back to a value already delivered (a re-read from a checkpoint), never to one not seen yet.
    let high = 0;
    for (const v of values) {
      expect({ key, v, ok: v <= high + 1 }).toEqual({ key, v, ok: true });
      high = Math.max(high, v);
    }
  }
  return deliveries.length - got.size; // duplicates
}
