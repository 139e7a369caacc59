import type { SourcePosition } from './journal.js';

/**
 * How far a unit of work (a scan segment, a query, an iterable) got, in its source's terms: every record up to
 * and including `after` is settled (acknowledged by Kinesis, or durably journaled as failed), so a resume reads
 * from just after it. Plain JSON: it survives a Step Functions state or a file.
 */
export interface ReplayCursor {
  /** The last record of the settled prefix; absent: nothing settled yet (start from the beginning). */
  after?: SourcePosition | undefined;
  /** The source was read to its end and every record of it settled: nothing is left to do. */
  done: boolean;
}

/**
 * Tracks the records of one unit in read order and the settled prefix. A record is added when read and settled
 * when it is acknowledged or journaled; the cursor passes it only once every earlier record is settled too.
 * Holds only the records read and not yet passed (those in the writer), so it does not grow with the source.
 */
export class UnitCursor {
  private next = 0;
  /** Ordinals below this are passed. */
  private passed = 0;
  /**
   * Positions of the records read and not passed yet: ordinal `o` is at index `o - base` (from `passed - base`
   * on); `settled` marks those settled out of order. Arrays, trimmed as the prefix passes: no object per record.
   */
  private positions: SourcePosition[] = [];
  private settledFlags: boolean[] = [];
  private base = 0;
  private after: SourcePosition | undefined;
  private exhausted: boolean;

  constructor(
    readonly name: string,
    start: ReplayCursor | undefined,
    private readonly onChange: () => void = () => {},
  ) {
    this.after = start?.after;
    this.exhausted = start?.done === true;
  }

  /** The cursor now. */
  get cursor(): ReplayCursor {
    const c: ReplayCursor = { done: this.done };
    if (this.after !== undefined) c.after = this.after;
    return c;
  }

  /** True once the source was read to its end and every record settled. */
  get done(): boolean {
    return this.exhausted && this.next === this.passed;
  }

  /** Where the unit resumes: after this record. */
  get start(): SourcePosition | undefined {
    return this.after;
  }

  /** Records read and not passed. */
  get openCount(): number {
    return this.next - this.passed;
  }

  /**
   * Resolves once fewer than `max` records are open (read and not passed), or when `signal` fires: the read loop
   * waits here, so that a record held back (retrying, say) does not let the window, and the records a crash
   * would send again, grow without bound.
   */
  room(max: number, signal: AbortSignal): Promise<void> {
    if (this.openCount < max || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.waiter = undefined;
        resolve();
      };
      this.waiter = { max, done };
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private waiter: { max: number; done: () => void } | undefined;

  /** Notes a record read; returns its ordinal for {@link settle}. */
  add(position: SourcePosition): number {
    this.positions.push(position);
    this.settledFlags.push(false);
    return this.next++;
  }

  /** Notes that the record was settled; passes the prefix. */
  settle(ordinal: number): void {
    if (ordinal < this.passed || ordinal >= this.next) return;
    const i = ordinal - this.base;
    if (this.settledFlags[i]) return;
    this.settledFlags[i] = true;
    if (ordinal !== this.passed) return;
    let j = i;
    while (j < this.settledFlags.length && this.settledFlags[j]) j++;
    this.after = this.positions[j - 1];
    this.passed = this.base + j;
    // trim the passed part now and then (not on every record: a splice costs the length)
    if (j >= 1024 && j * 2 >= this.positions.length) {
      this.positions = this.positions.slice(j);
      this.settledFlags = this.settledFlags.slice(j);
      this.base += j;
    }
    if (this.waiter && this.openCount < this.waiter.max) this.waiter.done();
    this.onChange();
  }

  /** Notes that the source ended (every record of it was added). */
  finish(): void {
    if (this.exhausted) return;
    this.exhausted = true;
    this.onChange();
  }

  /** Positions of the records read and not settled (unsent at an abort or a stop), in read order. */
  unsettled(): SourcePosition[] {
    const out: SourcePosition[] = [];
    for (let i = this.passed - this.base; i < this.positions.length; i++) {
      if (!this.settledFlags[i]) out.push(this.positions[i]!);
    }
    return out;
  }
}
