import { duration, type Output } from './output.js';

/** A one-line progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
export class ProgressBar {
  private lastPrint = 0;
  private drawn = false;
  private pending: (() => void) | undefined;

  constructor(
    private readonly output: Output,
    private readonly label: string,
    private readonly intervalMs = 2_000,
  ) {}

  /** Shows `done` of `total` (when known) with a rate and an ETA. */
  update(done: number, total: number | undefined, perSecond: number, etaMs?: number, force = false): void {
    const now = Date.now();
    if (!this.output.interactive && !force && now - this.lastPrint < this.intervalMs) {
      this.pending = () => this.update(done, total, perSecond, etaMs, true);
      return;
    }
    this.pending = undefined;
    this.lastPrint = now;
    const width = 24;
    const share = total ? Math.min(1, done / total) : undefined;
    const bar =
      share === undefined
        ? ''
        : `[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ${(share * 100).toFixed(0).padStart(3)}% `;
    const eta = etaMs !== undefined && Number.isFinite(etaMs) ? `  ETA ${duration(etaMs)}` : '';
    const line = `${this.label} ${bar}${done}${total ? `/${total}` : ''}  ${Math.round(perSecond)}/s${eta}`;
    if (this.output.interactive) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.output.err(line);
    }
  }

  /** Shows the last state (if it was not shown) and ends the bar's line. */
  done(): void {
    this.pending?.();
    if (this.drawn) process.stderr.write('\n');
    this.drawn = false;
  }
}
