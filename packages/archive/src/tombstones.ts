import type { WriteContext } from './context.js';
import type { NormalizedRecord } from './normalize.js';

/** How long a tombstone is kept by default: one day (Kafka's `delete.retention.ms` default). */
export const DEFAULT_TOMBSTONE_RETENTION_SECONDS = 86_400;

/** Tombstone settings of a LATEST writer. */
export interface TombstoneOptions {
  /**
   * How long a deletion marker is kept, in seconds (default one day). While it exists, no older record can bring
   * the key back; once it has expired, a record older than the deletion could (as with Kafka).
   */
  retentionSeconds?: number;
}

/** True when `record` deletes its key: tombstones are on and the record has no data. */
export function isTombstoneRecord(record: NormalizedRecord, ctx: Pick<WriteContext, 'tombstones'>): boolean {
  return ctx.tombstones && record.data.byteLength === 0;
}

/** The retention in seconds of a writer's `tombstones` option, or undefined when tombstones are off. */
export function tombstoneRetention(option: boolean | TombstoneOptions | undefined): number | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_TOMBSTONE_RETENTION_SECONDS;
  return option.retentionSeconds ?? DEFAULT_TOMBSTONE_RETENTION_SECONDS;
}
