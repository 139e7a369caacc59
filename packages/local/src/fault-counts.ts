import type { FaultKind } from './fault-rules.js';

/** What a fault proxy saw and did. */
export interface FaultCounts {
  /** Requests received. */
  requests: number;
  /** Requests forwarded to the target (whole, delayed, or the kept part of a partial failure). */
  forwarded: number;
  /** Faults injected, by kind (`throttle`, `internal`, `drop`, `latency`, `partial`). */
  injected: Record<string, number>;
  /** Entries (`PutRecords` records, `BatchWriteItem` items) failed by `partial` faults. */
  failedEntries: number;
  /**
   * The same per operation name: `byOperation.PutRecords` has `requests`, `forwarded`, `failedEntries` and one count
   * per injected fault kind. Requests without an `X-Amz-Target` header are under `''`.
   */
  byOperation: Record<string, Record<string, number>>;
}

/** Tallies what the proxy does. */
export class FaultCounter {
  private state: FaultCounts = { requests: 0, forwarded: 0, injected: {}, failedEntries: 0, byOperation: {} };

  private bump(operation: string, key: string, by = 1): void {
    this.state.byOperation[operation] ??= {};
    const op = this.state.byOperation[operation];
    op[key] = (op[key] ?? 0) + by;
  }

  request(operation: string): void {
    this.state.requests += 1;
    this.bump(operation, 'requests');
  }

  forwarded(operation: string): void {
    this.state.forwarded += 1;
    this.bump(operation, 'forwarded');
  }

  injected(operation: string, fault: FaultKind, times = 1, failedEntries = 0): void {
    if (times > 0) {
      this.state.injected[fault] = (this.state.injected[fault] ?? 0) + times;
      this.bump(operation, fault, times);
    }
    if (failedEntries > 0) {
      this.state.failedEntries += failedEntries;
      this.bump(operation, 'failedEntries', failedEntries);
    }
  }

  /** A deep copy of the tallies. */
  snapshot(): FaultCounts {
    return structuredClone(this.state);
  }
}
