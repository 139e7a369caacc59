/** The demo's application events: `count` events over `keys` keys, each with a per-key counter. */
export interface DemoEvent {
  key: string;
  payload: { key: string; n: number; i: number; amount: number; note: string };
}

/** Builds the demo's events deterministically: event `i` belongs to key `user-<i % keys>`. */
export function demoEvents(count: number, keys: number): DemoEvent[] {
  const perKey = new Array<number>(keys).fill(0);
  const events: DemoEvent[] = [];
  for (let i = 0; i < count; i++) {
    const k = i % keys;
    const n = perKey[k] ?? 0;
    perKey[k] = n + 1;
    const key = `user-${String(k).padStart(3, '0')}`;
    events.push({ key, payload: { key, n, i, amount: (i * 7919) % 10_000, note: `event ${n} of ${key} ✓` } });
  }
  return events;
}
