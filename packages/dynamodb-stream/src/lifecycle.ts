import { setMaxListeners } from 'node:events';

/**
 * The phases of a consumer. `idle`: never started; `starting`: loading its state and listing shards; `running`:
 * reading; `stopping`: its signal aborted, waiting for deliveries in flight and the last checkpoint; `stopped`:
 * nothing runs (it may be started again).
 */
export type ConsumerPhase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** What a run is: started once, given the run's signal, ended when it returns. */
export type RunBody = (run: Run) => Promise<void>;

/** One run of a consumer: its abort signal and its fatal error, if any. */
export interface Run {
  /** Aborted by {@link Lifecycle.stop} or by a fatal error: every loop of the run ends at once. */
  readonly signal: AbortSignal;
  /** Marks the run `running` (after its start-up). */
  running(): void;
  /** Stops the run at once for this error (a lost checkpoint, say); {@link Lifecycle.failure} keeps it. */
  fail(error: Error): void;
}

/**
 * The one owner of a consumer's run and its abort signal, shared by the events mode and the iterator mode, so that
 * `start`, `stop`, `break` and a fatal error each have one meaning:
 *
 * - `start` while idle or stopped starts a run; while starting or running it does nothing; while stopping it
 *   starts again once the stop finished (the last call wins: a `stop` after it cancels it).
 * - `stop` aborts the run's signal and resolves when the run ended.
 * - a fatal error aborts the signal like `stop` and is kept in {@link failure}.
 */
export class Lifecycle {
  private current: { controller: AbortController; done: Promise<void>; body: RunBody } | undefined;
  private restart: RunBody | undefined;
  private state: ConsumerPhase = 'idle';
  private error: Error | undefined;
  private readonly onChange: (phase: ConsumerPhase) => void;

  constructor(onChange: (phase: ConsumerPhase) => void = () => undefined) {
    this.onChange = onChange;
  }

  /** The current phase. */
  get phase(): ConsumerPhase {
    return this.state;
  }

  /** The fatal error that ended the last run, if one did. */
  get failure(): Error | undefined {
    return this.error;
  }

  /** The running run's body (to tell the events mode from the iterator mode), if a run is on. */
  get body(): RunBody | undefined {
    return this.current?.body;
  }

  /** Starts `body` as described in the class comment; returns the run's end. */
  start(body: RunBody): Promise<void> {
    if (this.state === 'stopping') {
      this.restart = body;
      return this.current?.done ?? Promise.resolve();
    }
    if (this.current) return this.current.done;
    const controller = new AbortController();
    // Every shard's reads and pauses listen to the run's signal: no limit (Node warns past 10 listeners).
    setMaxListeners(0, controller.signal);
    this.error = undefined;
    this.set('starting');
    const run: Run = {
      signal: controller.signal,
      running: () => {
        // (the body may call this before start() returned: one run at a time, so its own signal tells)
        if (!controller.signal.aborted && this.state === 'starting') this.set('running');
      },
      fail: (error) => {
        if (controller.signal.aborted) return;
        this.error = error;
        this.abort(controller);
      },
    };
    const done = (async () => {
      try {
        await body(run);
      } catch (error) {
        if (!controller.signal.aborted)
          this.error = error instanceof Error ? error : new Error(String(error));
      }
    })().finally(() => {
      this.current = undefined;
      this.set('stopped');
      const next = this.restart;
      this.restart = undefined;
      if (next) void this.start(next);
    });
    this.current = { controller, done, body };
    return done;
  }

  /** Aborts the run (if any) and resolves once it ended. Cancels a restart asked for while stopping. */
  async stop(): Promise<void> {
    this.restart = undefined;
    const current = this.current;
    if (!current) return;
    this.abort(current.controller);
    await current.done;
  }

  private abort(controller: AbortController): void {
    if (controller.signal.aborted) return;
    if (this.current === undefined || this.current.controller === controller) this.set('stopping');
    controller.abort();
  }

  private set(phase: ConsumerPhase): void {
    if (this.state === phase) return;
    this.state = phase;
    this.onChange(phase);
  }
}
