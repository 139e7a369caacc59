import type { UnitCursor } from './cursor.js';
import { wrapEnvelope } from './envelope.js';
import type { Item, ReadyItem } from './item.js';
import { type FailureJournal, fromJournalRecord } from './journal.js';
import type { Sink } from './sink.js';
import type { UnitSource } from './units.js';
import { type CheckedRecord, checkRecord } from './validate.js';

/** What a unit's read loop needs besides its source and cursor. */
export interface UnitContext {
  sink: Sink;
  maxRecordBytes: number;
  envelope: boolean;
  /** Stop reading at this time (ms since the epoch): the unit's time budget. */
  deadline?: number | undefined;
  /** Records this run may still read (shared by the units of a process: `limit` counts for all of them). */
  budget: { remaining: number };
  /** Most records of a unit read and not settled; the unit waits for room before reading more. */
  maxUnsettled: number;
}

/**
 * Runs one unit: reads its source from its cursor and hands each record to the sink, until the source ends, the
 * time budget or the record limit is used up, or the sink stops (a fatal error, an abort). The cursor passes a
 * record only once the sink settled it; records handed over and not settled when the unit returns are still in
 * the sink (drain it). A source error stops the sink, with the error.
 */
export async function runUnit(source: UnitSource, cursor: UnitCursor, ctx: UnitContext): Promise<void> {
  if (cursor.done) return;
  const { sink } = ctx;
  if (ctx.budget.remaining <= 0) return;
  // one more than may be read: a source that yields it has more, so the unit is not done
  const limit = Number.isFinite(ctx.budget.remaining) ? ctx.budget.remaining + 1 : undefined;
  try {
    const opened = source.open(cursor.start, limit);
    for await (const record of opened.records) {
      if (sink.signal.aborted) return;
      const position = opened.position(record);
      if (position === undefined) continue;
      if (ctx.deadline !== undefined && Date.now() >= ctx.deadline) return;
      if (ctx.budget.remaining <= 0) return;
      ctx.budget.remaining--;
      if (cursor.openCount >= ctx.maxUnsettled) {
        // records held for aggregation may be what fills the window: send them, or the room would never come
        await sink.flushHeld();
        await cursor.room(ctx.maxUnsettled, sink.signal);
        if (sink.signal.aborted) return;
      }
      sink.counts.read++;
      const item: Item = { unit: source.name, cursor, ordinal: cursor.add(position), position, record };
      const handed = hand(item, sink.counts.read - 1, ctx);
      if (handed !== true && !(await handed)) return;
    }
    // read to the end, and not cut short by the limit of this run
    opened.end();
    if (!sink.signal.aborted) cursor.finish();
  } catch (error) {
    if (!sink.signal.aborted) sink.stop(error as Error);
  }
}

/**
 * Sends the records of the failure journal again (`retryFailed`), in journal order. A record sent leaves the
 * journal; one that fails again stays, its entry updated. Returns the entries read.
 */
export async function runJournal(journal: FailureJournal, ctx: UnitContext): Promise<number> {
  const { sink } = ctx;
  let count = 0;
  try {
    for await (const entry of journal.list()) {
      if (sink.signal.aborted) return count;
      count++;
      const record = fromJournalRecord(entry.record);
      const item: Item = {
        unit: entry.unit,
        cursor: undefined,
        ordinal: 0,
        position: entry.source,
        record,
        journalId: entry.id,
      };
      const handed = hand(item, count - 1, ctx);
      if (handed !== true && !(await handed)) return count;
    }
  } catch (error) {
    if (!sink.signal.aborted) sink.stop(error as Error);
  }
  return count;
}

/**
 * Checks a record (wrapped in the envelope when asked) and hands it to the sink; a record that breaks a Kinesis
 * limit is journaled as failed. `true` (at once, or once the sink took it): go on; `false`: the sink stopped or
 * was aborted meanwhile (the record is then unsent, not failed). Any other error is thrown. Synchronous while the
 * sink has room, so the hot path makes no promise per record.
 */
function hand(item: Item, index: number, ctx: UnitContext): boolean | Promise<boolean> {
  const { sink } = ctx;
  let checked: CheckedRecord;
  try {
    checked = checkRecord(item.record, index, ctx.maxRecordBytes);
    if (ctx.envelope) {
      checked = checkRecord(
        { ...checked, data: wrapEnvelope(item.record, checked.data) },
        index,
        ctx.maxRecordBytes,
      );
    }
  } catch (error) {
    sink.fail(item, error as Error);
    return true;
  }
  const ready = item as ReadyItem;
  ready.checked = checked;
  let waiting: Promise<void> | undefined;
  try {
    waiting = sink.put(ready);
  } catch (error) {
    return unsentUnlessStopped(sink.signal, error);
  }
  return waiting ? waiting.then(yes, (error: unknown) => unsentUnlessStopped(sink.signal, error)) : true;
}

const yes = (): true => true;

/** A record the sink did not take: `false` (unsent) when it stopped or was aborted meanwhile; else the error. */
function unsentUnlessStopped(signal: AbortSignal, error: unknown): false {
  if (signal.aborted) return false;
  throw error;
}
