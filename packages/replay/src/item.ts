import type { UnitCursor } from './cursor.js';
import type { SourcePosition } from './journal.js';
import type { ReplayRecord } from './types.js';
import type { CheckedRecord } from './validate.js';

/** A source record on its way: where it came from, and what is sent for it. */
export interface Item {
  /** The unit it was read by (`scan:3/8`, `query`, `iterable`, `journal`). */
  unit: string;
  /** The cursor of its unit (none for a record re-sent from the journal: the journal entry is its state). */
  cursor: UnitCursor | undefined;
  /** Its ordinal in the cursor. */
  ordinal: number;
  /** Where it is in its source. */
  position: SourcePosition;
  /** The record as the source gave it. */
  record: ReplayRecord;
  /** For a record re-sent from the journal: its entry's id. */
  journalId?: string | undefined;
}

/** A checked item: the bytes that go to Kinesis for it (the envelope applied). */
export interface ReadyItem extends Item {
  checked: CheckedRecord;
}

/** What the replayer hands to the writer: one Kinesis record and the source records it carries. */
export interface Unit {
  partitionKey: string;
  data: Uint8Array;
  explicitHashKey?: string | undefined;
  /** The keys whose order it keeps: those of its records (for a lone record, absent: its partition key). */
  orderingKeys?: readonly string[] | undefined;
  items: ReadyItem[];
  /** For an aggregate: the shard it was built for (Kinesis putting it on another one means a reshard). */
  shardId?: string | undefined;
}

/** The unit of a lone record: sent as it is. */
export function loneUnit(item: ReadyItem): Unit {
  return {
    partitionKey: item.checked.partitionKey,
    data: item.checked.data,
    explicitHashKey: item.checked.explicitHashKey,
    items: [item],
  };
}
