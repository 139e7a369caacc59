import type { Output } from './output.js';

/** How long an interrupted command may take to finish what is in flight before the CLI exits anyway. */
export const INTERRUPT_GRACE_MS = 2_000;

/** What {@link interruptHandler} needs: where to say what it does, how to end the process, the grace time. */
export interface InterruptOptions {
  output: Output;
  /** Ends the process. */
  exit: (code: number) => void;
  /** Default {@link INTERRUPT_GRACE_MS}. */
  graceMs?: number;
}

/**
 * The CLI's answer to Ctrl-C (SIGINT) and SIGTERM: the first aborts `controller` (every request carries its
 * signal; the command prints what it did and ends) and leaves the command `graceMs` to do so; a second one, or a
 * command still running after the grace time, exits with 130 at once. Returns the handler and a `dispose` that
 * cancels the grace timer.
 */
export function interruptHandler(
  controller: AbortController,
  options: InterruptOptions,
): { onSignal: () => void; dispose: () => void } {
  const graceMs = options.graceMs ?? INTERRUPT_GRACE_MS;
  let grace: NodeJS.Timeout | undefined;
  const onSignal = () => {
    if (controller.signal.aborted) {
      options.output.err('kinesis-archive: interrupted again, exiting now');
      options.exit(130);
      return;
    }
    options.output.err(
      'kinesis-archive: interrupting (finishing what is in flight; Ctrl-C again to exit at once)',
    );
    controller.abort();
    grace = setTimeout(() => {
      options.output.err(`kinesis-archive: still running ${graceMs / 1000} s after the interrupt, exiting`);
      options.exit(130);
    }, graceMs);
    grace.unref();
  };
  return { onSignal, dispose: () => clearTimeout(grace) };
}
