import type { EventEmitter } from 'node:events';
import { ListenerError } from './errors.js';
import type { ChangeRecord } from './records.js';
import type { Delivery } from './shard-worker.js';

type Listener = (...args: unknown[]) => unknown;

/** Calls the listeners of `event` in order, awaiting async ones; throws what a listener throws. */
export async function callListeners(emitter: EventEmitter, event: string, args: unknown[]): Promise<void> {
  for (const listener of emitter.rawListeners(event) as Listener[]) await listener.apply(emitter, args);
}

/** Emits `'error'` to every error listener (a throwing one cannot take the consumer down); none: a process warning. */
export function reportError(emitter: EventEmitter, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  if (emitter.listenerCount('error') === 0) {
    process.emitWarning(err);
    return;
  }
  for (const listener of emitter.rawListeners('error') as Listener[]) {
    try {
      const result = listener.call(emitter, err);
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // A throwing error listener must not take the consumer down.
    }
  }
}

/** The record events of a change: `'record'`, then the one of its type. */
async function dispatchChange(emitter: EventEmitter, change: ChangeRecord): Promise<string | undefined> {
  let event = 'record';
  try {
    await callListeners(emitter, event, [change]);
    if (change.eventName === 'INSERT') {
      event = 'insert record';
      await callListeners(emitter, event, [change.newImage, change.keys, change]);
    } else if (change.eventName === 'MODIFY') {
      event = 'modify record';
      await callListeners(emitter, event, [change.newImage, change.oldImage, change.keys, change]);
    } else {
      event = 'remove record';
      await callListeners(emitter, event, [change.oldImage, change.keys, change]);
    }
    return undefined;
  } catch (error) {
    throw new ListenerError(change.shardId, change.sequenceNumber, event, error);
  }
}

/**
 * Delivers changes to the record listeners one by one, committing each once its listeners settled; stops at the
 * first failure, and between changes once `signal` aborted.
 */
export async function deliverToListeners(
  emitter: EventEmitter,
  changes: readonly ChangeRecord[],
  signal: AbortSignal,
  commit: (change: ChangeRecord) => void,
): Promise<Delivery> {
  let settled = 0;
  for (const change of changes) {
    if (signal.aborted) return { settled };
    try {
      await dispatchChange(emitter, change);
    } catch (error) {
      return { settled, error: error as Error };
    }
    commit(change);
    settled++;
  }
  return { settled };
}
