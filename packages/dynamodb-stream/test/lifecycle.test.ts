import { describe, expect, it } from 'vitest';
import { Checkpointer } from '../src/checkpointer.js';
import { CheckpointConflictError, CheckpointSaveError, type ShardState } from '../src/index.js';
import { type ConsumerPhase, Lifecycle, type Run } from '../src/lifecycle.js';

/** A run body that waits for its signal, recording its starts. */
function body(log: string[], name: string) {
  return (run: Run) =>
    new Promise<void>((resolve) => {
      log.push(`start ${name}`);
      run.running();
      run.signal.addEventListener('abort', () => {
        log.push(`stop ${name}`);
        setTimeout(resolve, 5);
      });
    });
}

describe('Lifecycle', () => {
  it('goes idle, starting, running, stopping, stopped; start while running does nothing', async () => {
    const phases: ConsumerPhase[] = [];
    const life = new Lifecycle((p) => phases.push(p));
    const log: string[] = [];
    const a = body(log, 'a');
    expect(life.phase).toBe('idle');
    void life.start(a);
    void life.start(a);
    expect(life.phase).toBe('running');
    await life.stop();
    expect(life.phase).toBe('stopped');
    expect(phases).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(log).toEqual(['start a', 'stop a']);
  });

  it('start while stopping starts again once stopped; a stop after it cancels that', async () => {
    const life = new Lifecycle();
    const log: string[] = [];
    void life.start(body(log, 'a'));
    const stopping = life.stop();
    void life.start(body(log, 'b'));
    await stopping;
    await new Promise((r) => setTimeout(r, 10));
    expect(life.phase).toBe('running');
    expect(log).toEqual(['start a', 'stop a', 'start b']);
    const again = life.stop();
    void life.start(body(log, 'c'));
    await life.stop(); // the last call wins: c never starts
    await again;
    await new Promise((r) => setTimeout(r, 10));
    expect(life.phase).toBe('stopped');
    expect(log).toEqual(['start a', 'stop a', 'start b', 'stop b']);
  });

  it('a fatal error aborts the run at once and is kept; the next start clears it', async () => {
    const life = new Lifecycle();
    const error = new Error('lost');
    let signal: AbortSignal | undefined;
    await life.start(async (run) => {
      signal = run.signal;
      run.fail(error);
      expect(run.signal.aborted).toBe(true);
    });
    expect(signal?.aborted).toBe(true);
    expect(life.failure).toBe(error);
    expect(life.phase).toBe('stopped');
    await life.start(async () => undefined);
    expect(life.failure).toBeUndefined();
  });

  it('a body that throws ends the run with its error', async () => {
    const life = new Lifecycle();
    await life.start(async () => {
      throw new Error('boom');
    });
    expect(life.failure?.message).toBe('boom');
    expect(life.phase).toBe('stopped');
  });
});

describe('Checkpointer', () => {
  const state: ShardState = { s: { sequenceNumber: '100000000000000000001' } };

  it('saves only a moved state, one save at a time, calls meanwhile sharing the next', async () => {
    const saved: ShardState[] = [];
    let inFlight = 0;
    let most = 0;
    const store = {
      load: () => undefined,
      save: async (s: ShardState) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        saved.push(s);
        inFlight--;
      },
    };
    const events: ShardState[] = [];
    const c = new Checkpointer(() => state, store, {
      saved: async (s) => void events.push(s),
      failed: () => {},
    });
    await c.save();
    expect(saved).toEqual([]); // nothing moved
    c.markDirty();
    await Promise.all([c.save(), c.save(), c.save()]);
    expect(saved).toHaveLength(1);
    expect(most).toBe(1);
    expect(events).toEqual(saved);
  });

  it('a held state is neither saved nor announced, and stays to be saved', async () => {
    let holding = true;
    const saved: ShardState[] = [];
    const events: ShardState[] = [];
    const c = new Checkpointer(
      () => state,
      { load: () => undefined, save: (s) => void saved.push(s) },
      {
        saved: async (s) => void events.push(s),
        failed: () => {},
        holding: () => holding,
      },
    );
    c.markDirty();
    await c.save();
    expect({ saved, events, dirty: c.isDirty }).toEqual({ saved: [], events: [], dirty: true });
    holding = false;
    await c.save();
    expect(saved).toHaveLength(1);
    expect(events).toHaveLength(1);
  });

  it('rejects with a conflict; reports other failures and saves again next time', async () => {
    let fail: Error | undefined = new CheckpointConflictError('x', 1);
    const failures: CheckpointSaveError[] = [];
    const c = new Checkpointer(
      () => state,
      {
        load: () => undefined,
        save: () => {
          if (fail) throw fail;
        },
      },
      { saved: async () => {}, failed: (e) => void failures.push(e) },
    );
    c.markDirty();
    await expect(c.save()).rejects.toBeInstanceOf(CheckpointConflictError);
    fail = new Error('network');
    c.markDirty();
    await c.save();
    expect(failures[0]).toBeInstanceOf(CheckpointSaveError);
    expect(c.isDirty).toBe(true);
    fail = undefined;
    await c.save();
    expect(c.isDirty).toBe(false);
  });
});
