import { describe, expect, it, vi } from 'vitest';
import { interruptHandler } from '../src/cli/interrupt.js';
import type { Output } from '../src/cli/output.js';

function recordingOutput(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (line) => lines.push(line), err: (line) => lines.push(line), interactive: false };
}

// The first Ctrl-C against a hung request is driven through the built CLI in operator.test.ts; two signals in a row
// cannot be sent to a child reliably (the kernel merges a pending second SIGINT), so the policy is tested here.
describe('Ctrl-C policy', () => {
  it('the first Ctrl-C aborts and gives the command its grace time; a second exits with 130 at once', () => {
    vi.useFakeTimers();
    try {
      const output = recordingOutput();
      const exit = vi.fn();
      const controller = new AbortController();
      const handler = interruptHandler(controller, { output, exit, graceMs: 2_000 });
      handler.onSignal();
      expect(controller.signal.aborted).toBe(true);
      expect(exit).not.toHaveBeenCalled();
      expect(output.lines).toEqual([expect.stringMatching(/interrupting .*Ctrl-C again to exit at once/)]);
      vi.advanceTimersByTime(100);
      handler.onSignal();
      expect(exit).toHaveBeenCalledExactlyOnceWith(130);
      expect(output.lines.at(-1)).toMatch(/interrupted again, exiting now/);
      handler.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a command still running after the grace time is ended with 130; one that ended in time is not', () => {
    vi.useFakeTimers();
    try {
      const output = recordingOutput();
      const exit = vi.fn();
      const slow = interruptHandler(new AbortController(), { output, exit, graceMs: 2_000 });
      slow.onSignal();
      vi.advanceTimersByTime(1_999);
      expect(exit).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(exit).toHaveBeenCalledExactlyOnceWith(130);
      expect(output.lines.at(-1)).toMatch(/still running 2 s after the interrupt, exiting/);

      const exitInTime = vi.fn();
      const quick = interruptHandler(new AbortController(), { output, exit: exitInTime, graceMs: 2_000 });
      quick.onSignal();
      quick.dispose(); // the command ended
      vi.advanceTimersByTime(10_000);
      expect(exitInTime).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
