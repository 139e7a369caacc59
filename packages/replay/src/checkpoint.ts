import type { CheckpointStore as Store } from '@kinesis-archive/core';
import type { ReplayCursor } from './cursor.js';
import { CheckpointMismatchError, InvalidReplayOptionError } from './errors.js';
import { isJournalEntry, type JournalEntry } from './journal.js';

/**
 * Where a replay stands: the cursor of each of its units of work (scan segments, a query, an iterable), and,
 * when no failure journal was given, the records that failed (they ride in the checkpoint, bounded). Plain JSON:
 * store it anywhere.
 */
export interface ReplayCheckpoint {
  /** Format version: 2. */
  version: 2;
  /** Each unit's cursor, by unit name (`scan:3/8`, `scan`, `query`, `iterable`, `iterable:1/4`). */
  units: Record<string, ReplayCursor>;
  /** The failure journal, when the replay has none of its own (see `journal`). */
  failures?: JournalEntry[] | undefined;
}

/**
 * Loads and saves a replay's {@link ReplayCheckpoint} (a file, a DynamoDB item, ...): core's `CheckpointStore`.
 * `save` is called as the replay advances (never concurrently) and once at the end.
 */
export type CheckpointStore = Store<ReplayCheckpoint>;

/**
 * Checks a loaded checkpoint against the units of this replay.
 *
 * @throws {@link CheckpointMismatchError} for a checkpoint of an earlier format or of other units;
 *   {@link InvalidReplayOptionError} for one that is not a checkpoint at all.
 */
export function checkLoadedCheckpoint(checkpoint: unknown, unitNames: readonly string[]): ReplayCheckpoint {
  const c = checkpoint as Partial<ReplayCheckpoint> & { position?: unknown };
  if (!c || typeof c !== 'object')
    throw new InvalidReplayOptionError('checkpoint', String(c), 'a saved checkpoint');
  if (c.version !== 2) {
    throw new CheckpointMismatchError(
      c.position !== undefined
        ? 'it is of the earlier format (a position in read order), which cannot resume safely: delete it and start again, or replay from the archive with a time range'
        : `unknown version ${String(c.version)}`,
    );
  }
  if (!c.units || typeof c.units !== 'object') {
    throw new InvalidReplayOptionError('checkpoint.units', String(c.units), 'an object of cursors');
  }
  const saved = Object.keys(c.units).sort();
  const wanted = [...unitNames].sort();
  if (saved.join(',') !== wanted.join(',')) {
    throw new CheckpointMismatchError(
      `it was saved for the units ${saved.join(', ') || '(none)'}, this replay runs ${wanted.join(', ')} (another segment count or source)`,
      { saved, wanted },
    );
  }
  for (const name of saved) {
    const cursor = c.units[name] as Partial<ReplayCursor> | undefined;
    if (!cursor || typeof cursor.done !== 'boolean') {
      throw new InvalidReplayOptionError(`checkpoint.units.${name}`, JSON.stringify(cursor), 'a cursor');
    }
  }
  if (c.failures !== undefined && (!Array.isArray(c.failures) || !c.failures.every(isJournalEntry))) {
    throw new InvalidReplayOptionError('checkpoint.failures', 'malformed', 'journal entries');
  }
  return c as ReplayCheckpoint;
}

/**
 * Saves the checkpoint through the store, one save at a time: a change while a save is running is saved right
 * after it, with the state of that moment (so every save holds a state the replay was in).
 */
export class CheckpointSaver {
  private saving: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly store: CheckpointStore | undefined,
    private readonly snapshot: () => ReplayCheckpoint,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Asks for a save (coalesced). */
  request(): void {
    if (!this.store) return;
    if (this.saving) {
      this.dirty = true;
      return;
    }
    const state = this.snapshot();
    this.saving = Promise.resolve()
      .then(() => this.store!.save(state))
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.saving = undefined;
        if (this.dirty) {
          this.dirty = false;
          this.request();
        }
      });
  }

  /** Waits until no save is running or asked for. */
  async drain(): Promise<void> {
    while (this.saving) await this.saving;
  }
}
