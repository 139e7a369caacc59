import { describe, expect, it } from 'vitest';
import { UnitCursor } from '../src/cursor.js';

const at = (index: number) => ({ index, partitionKey: `k${index}` });

describe('UnitCursor (pure)', () => {
  it('passes a record only once every earlier one is settled, in any settle order', () => {
    let changes = 0;
    const cursor = new UnitCursor('u', undefined, () => changes++);
    const ords = [0, 1, 2, 3, 4].map((i) => cursor.add(at(i)));
    cursor.settle(ords[2]!);
    cursor.settle(ords[1]!);
    expect(cursor.cursor).toEqual({ done: false });
    expect(cursor.unsettled().map((p) => (p as { index: number }).index)).toEqual([0, 3, 4]);
    cursor.settle(ords[0]!);
    expect(cursor.cursor).toEqual({ after: at(2), done: false });
    cursor.settle(ords[0]!); // twice: no effect
    cursor.finish();
    expect(cursor.done).toBe(false);
    cursor.settle(ords[4]!);
    cursor.settle(ords[3]!);
    expect(cursor.cursor).toEqual({ after: at(4), done: true });
    expect(changes).toBeGreaterThan(0);
  });

  it('keeps only the open records over 100,000 settled ones (trimmed as it passes)', () => {
    const cursor = new UnitCursor('u', undefined);
    for (let i = 0; i < 100_000; i++) cursor.settle(cursor.add(at(i)));
    expect(cursor.openCount).toBe(0);
    const held = (cursor as unknown as { positions: unknown[] }).positions.length;
    expect(held).toBeLessThan(4_096);
    expect(cursor.cursor.after).toEqual(at(99_999));
  });

  it('room() waits until the window has room, or the signal fires', async () => {
    const cursor = new UnitCursor('u', { after: at(9), done: false });
    expect(cursor.start).toEqual(at(9));
    const a = cursor.add(at(10));
    cursor.add(at(11));
    const controller = new AbortController();
    let resolved = false;
    const waiting = cursor.room(2, controller.signal).then(() => {
      resolved = true;
    });
    await Promise.resolve();
    expect(resolved).toBe(false);
    cursor.settle(a);
    await waiting;
    expect(resolved).toBe(true);
    const stuck = cursor.room(1, controller.signal);
    controller.abort();
    await expect(stuck).resolves.toBeUndefined();
  });

  it('a cursor that was done stays done', () => {
    expect(new UnitCursor('u', { after: at(3), done: true }).done).toBe(true);
  });
});
