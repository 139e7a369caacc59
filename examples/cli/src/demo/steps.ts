import { duration, type Output } from '../cli/output.js';

/** A timed step of the demo. */
export interface StepTiming {
  name: string;
  ms: number;
  detail: string;
}

/** Runs named steps, printing each one's start and end on stderr and keeping the timings for the summary. */
export class StepRunner {
  readonly timings: StepTiming[] = [];

  constructor(private readonly output: Output) {}

  /** Runs `fn`; its result's `detail` (if it returns a string) goes into the summary. */
  async run<T>(name: string, fn: () => Promise<T>, detail: (result: T) => string = () => ''): Promise<T> {
    this.output.err(`> ${name} ...`);
    const started = Date.now();
    const result = await fn();
    const ms = Date.now() - started;
    const text = detail(result);
    this.timings.push({ name, ms, detail: text });
    this.output.err(`  done in ${duration(ms)}${text ? `: ${text}` : ''}`);
    return result;
  }
}
