/** What `onProgress` receives. */
export interface ReplayProgress {
  /** Records read so far. */
  read: number;
  /** User records acknowledged by Kinesis so far. */
  sent: number;
  /** Records given up on so far. */
  failed: number;
  /** Entries re-sent so far. */
  retries: number;
  /** Sent user records per second since the start. */
  recordsPerSecond: number;
  /** Estimated milliseconds left, when the `total` option was given. */
  eta?: number | undefined;
}

/** Calls a progress callback at most once per `intervalMs` (and once more on `final`). */
export class ProgressReporter {
  private last = 0;
  private readonly started = Date.now();

  constructor(
    private readonly callback: ((progress: ReplayProgress) => void) | undefined,
    private readonly intervalMs: number,
    private readonly total: number | undefined,
  ) {}

  /** Reports when the interval has passed since the last report, or always when `final`. */
  report(counts: Omit<ReplayProgress, 'recordsPerSecond' | 'eta'>, final = false): void {
    if (!this.callback) return;
    const now = Date.now();
    if (!final && now - this.last < this.intervalMs) return;
    this.last = now;
    const seconds = Math.max(1e-3, (now - this.started) / 1000);
    const recordsPerSecond = counts.sent / seconds;
    const progress: ReplayProgress = { ...counts, recordsPerSecond };
    if (this.total !== undefined && recordsPerSecond > 0) {
      progress.eta = Math.max(0, ((this.total - counts.sent - counts.failed) / recordsPerSecond) * 1000);
    }
    this.callback(progress);
  }
}
