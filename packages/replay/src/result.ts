import type { ReplayCursor } from './cursor.js';
import type { SourcePosition } from './journal.js';
import type { ReplayFailure } from './types.js';

/**
 * What a replay did. Every record read is sent, in the failure journal (`failed`), or unsent (`unsent`: the
 * replay was aborted or stopped before it settled; the cursors are before it, so a resume sends it).
 */
export interface ReplayResult {
  /** `true` when nothing is in the journal, nothing is unsent, and the replay neither stopped nor was aborted. */
  ok: boolean;
  /** Records read from the source in this run. */
  read: number;
  /** User records acknowledged by Kinesis in this run (0 with `dryRun`). */
  sent: number;
  /** Kinesis records written: equals `sent` without aggregation, fewer with `aggregate: true`. */
  kinesisRecords: number;
  /** Entries re-sent after a failure (partial failure, throttling, transient error). */
  retries: number;
  /**
   * User records sent a second time because their aggregate landed on another shard than it was built for (the
   * stream was resharded): a KCL consumer of that shard could drop some of them, so they were sent again on
   * their own, as the KPL does. Their first copies may be delivered too (at-least-once).
   */
  resent: number;
  /**
   * Every record in the failure journal (this run's failures and earlier runs' not sent again yet), without
   * payloads: the journal has them. `retryFailed: true` sends them again.
   */
  failed: ReplayFailure[];
  /** Records this run moved into the journal. */
  journaled: number;
  /** Records sent again from the journal in this run (`retryFailed`), and so removed from it. */
  retriedFromJournal: number;
  /** Records read and neither sent nor journaled, because the replay was aborted or stopped (in read order). */
  unsent: SourcePosition[];
  /** Records of an iterable source skipped because the checkpoint had passed them. */
  skipped: number;
  /** `true` when the replay stopped because its `AbortSignal` fired. */
  aborted: boolean;
  /**
   * Why the replay stopped early, when it did: a request refused for every record (stream not found, access
   * denied), the journal or a checkpoint save failing, the source failing, a callback throwing. Nothing more was
   * read or sent after it; the cursors are before every record not settled.
   */
  stoppedBy?: Error | undefined;
  /** The cursor of each unit of work, by unit name: where a resume starts. */
  cursors: Record<string, ReplayCursor>;
  /** Wall time of the replay in milliseconds. */
  elapsedMs: number;
}
