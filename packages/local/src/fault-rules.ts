import { KinesisArchiveError } from '@kinesis-archive/core';

/** The kinds of fault the proxy can inject. */
export type FaultKind = 'throttle' | 'internal' | 'drop' | 'lost' | 'latency' | 'partial';

const KINDS: readonly FaultKind[] = ['throttle', 'internal', 'drop', 'lost', 'latency', 'partial'];

/** Default delay of a `latency` fault, in ms. */
export const DEFAULT_LATENCY_MS = 250;
/** Default share of entries failed by a `partial` fault. */
export const DEFAULT_ENTRY_FAILURE_RATE = 0.5;

/** One fault-injection rule of {@link startFaultProxy}. */
export interface FaultRule {
  /**
   * Operation the rule applies to, matched against the operation name of the `X-Amz-Target` header (`PutRecords`,
   * `BatchWriteItem`, `GetRecords`, ...). A string must equal the name; a RegExp is tested against it. Omitted:
   * every operation.
   */
  operation?: string | RegExp;
  /**
   * What to inject. `throttle`: a 400 AWS JSON error (`errorCode`, default `ProvisionedThroughputExceededException`).
   * `internal`: a 500 (`InternalFailure` for Kinesis, `InternalServerError` for DynamoDB). `drop`: the connection is
   * closed without an answer (the request never reached the service). `lost`: the request is forwarded and
   * carried out, then the connection is closed without its answer (a lost response: the client cannot tell that
   * its write happened). `latency`: the request is delayed by `latencyMs`, then forwarded. `partial`: for
   * Kinesis `PutRecords` and DynamoDB `BatchWriteItem` only, some entries are forwarded and the others answered as
   * failed (per-entry errors, or `UnprocessedItems`).
   */
  fault: FaultKind;
  /**
   * Chance, from 0 to 1, that the rule fires for a matching request (drawn from the proxy's seeded sequence).
   * Required unless `at` is given.
   */
  probability?: number;
  /**
   * A fixed schedule: the rule fires at these matching requests (1-based: `[1, 4]` is the first and the fourth
   * request that matches `operation` (for `partial`: that it can apply to), counted whether or not another rule
   * took it), and draws no random number for
   * them. This is how a test guarantees the faults it asserts on, whatever the timing: a rule with only `at` fires
   * exactly there; with `probability` too, it also fires at random elsewhere. Rules are still checked in order and
   * the first terminal fault wins, so put scheduled rules first.
   */
  at?: readonly number[];
  /**
   * Error name to answer with: for `throttle` any AWS JSON error name sent with status 400 (default
   * `ProvisionedThroughputExceededException`; e.g. `ThrottlingException`, `ExpiredIteratorException`); for
   * `internal` the 500 error name; for `partial` on `PutRecords` the per-entry `ErrorCode` (default
   * `ProvisionedThroughputExceededException`, or `InternalFailure`).
   */
  errorCode?: string;
  /** Delay of a `latency` fault, in ms. Default 250. */
  latencyMs?: number;
  /** For `partial`: the share of entries (items) to fail, from 0 to 1. Default 0.5; at least one always fails. */
  entryFailureRate?: number;
  /** Stop injecting this rule after it fired this many times. */
  maxCount?: number;
}

/** A fault rule was malformed (unknown fault, probability outside 0..1, ...). */
export class InvalidFaultRuleError extends KinesisArchiveError {
  constructor(index: number, reason: string) {
    super('INVALID_FAULT_RULE', `fault rule #${index} is invalid: ${reason}`, { details: { index } });
  }
}

function isShare(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

/** Checks rules and returns a defensive copy; throws {@link InvalidFaultRuleError}. */
export function validateRules(rules: readonly FaultRule[]): FaultRule[] {
  if (!Array.isArray(rules)) throw new InvalidFaultRuleError(0, 'rules must be an array');
  return rules.map((rule, index) => {
    if (!rule || typeof rule !== 'object') throw new InvalidFaultRuleError(index, 'not an object');
    if (!KINDS.includes(rule.fault)) {
      throw new InvalidFaultRuleError(
        index,
        `unknown fault ${JSON.stringify(rule.fault)} (use ${KINDS.join(', ')})`,
      );
    }
    if (rule.at !== undefined) {
      if (
        !Array.isArray(rule.at) ||
        !rule.at.every((n: unknown) => Number.isInteger(n) && (n as number) >= 1)
      ) {
        throw new InvalidFaultRuleError(
          index,
          'at must be an array of integers >= 1 (1 is the first matching request)',
        );
      }
      if (rule.probability !== undefined && !isShare(rule.probability)) {
        throw new InvalidFaultRuleError(index, 'probability must be a number from 0 to 1');
      }
    } else if (!isShare(rule.probability)) {
      throw new InvalidFaultRuleError(
        index,
        'probability must be a number from 0 to 1 (or give an `at` schedule)',
      );
    }
    const op = rule.operation;
    if (op !== undefined && typeof op !== 'string' && !(op instanceof RegExp)) {
      throw new InvalidFaultRuleError(index, 'operation must be a string or a RegExp');
    }
    if (rule.entryFailureRate !== undefined && !isShare(rule.entryFailureRate)) {
      throw new InvalidFaultRuleError(index, 'entryFailureRate must be a number from 0 to 1');
    }
    if (rule.latencyMs !== undefined && !(Number.isFinite(rule.latencyMs) && rule.latencyMs >= 0)) {
      throw new InvalidFaultRuleError(index, 'latencyMs must be a number >= 0');
    }
    if (rule.maxCount !== undefined && !(Number.isInteger(rule.maxCount) && rule.maxCount >= 0)) {
      throw new InvalidFaultRuleError(index, 'maxCount must be an integer >= 0');
    }
    if (rule.errorCode !== undefined && !/^[A-Za-z][A-Za-z0-9.]*$/.test(rule.errorCode)) {
      throw new InvalidFaultRuleError(
        index,
        'errorCode must be an AWS error name such as ThrottlingException',
      );
    }
    return { ...rule, ...(rule.at ? { at: [...rule.at] } : {}) };
  });
}

/** What to do with one request. */
export interface FaultDecision {
  /** Total delay from the `latency` rules that fired, in ms. */
  latencyMs: number;
  /** How many `latency` rules fired. */
  latencyHits: number;
  /** The terminal fault that fired (anything but latency), if any. */
  rule?: FaultRule;
}

function matches(rule: FaultRule, operation: string): boolean {
  if (rule.operation === undefined) return true;
  if (typeof rule.operation === 'string') return rule.operation === operation;
  rule.operation.lastIndex = 0;
  return rule.operation.test(operation);
}

/**
 * Decides, rule by rule and with one shared random sequence, which faults hit a request. Latency rules add up;
 * the first other rule that fires wins. A rule that does not match (or cannot apply) draws no number, so the same
 * seed and the same requests give the same decisions.
 */
export class FaultPlanner {
  private rules: FaultRule[] = [];
  private used: number[] = [];
  private seen: number[] = [];

  constructor(
    private readonly random: () => number,
    rules: readonly FaultRule[],
  ) {
    this.setRules(rules);
  }

  /** Replaces the rules (and resets their `maxCount` tallies). */
  setRules(rules: readonly FaultRule[]): void {
    this.rules = validateRules(rules);
    this.used = this.rules.map(() => 0);
    this.seen = this.rules.map(() => 0);
  }

  /** Decides the faults for one request; `partialApplies` says whether a `partial` fault can apply to it. */
  decide(operation: string, partialApplies: boolean): FaultDecision {
    let latencyMs = 0;
    let latencyHits = 0;
    // Every matching request counts for a rule's `at` schedule, also one that an earlier rule takes.
    const ordinal = this.rules.map((rule, index) => {
      if (!matches(rule, operation) || (rule.fault === 'partial' && !partialApplies)) return 0;
      this.seen[index] = (this.seen[index] ?? 0) + 1;
      return this.seen[index];
    });
    for (const [index, rule] of this.rules.entries()) {
      const nth = ordinal[index] ?? 0;
      if (nth === 0) continue;
      if (rule.maxCount !== undefined && (this.used[index] ?? 0) >= rule.maxCount) continue;
      const scheduled = rule.at?.includes(nth) ?? false;
      if (!scheduled && (rule.probability === undefined || this.random() >= rule.probability)) continue;
      this.used[index] = (this.used[index] ?? 0) + 1;
      if (rule.fault === 'latency') {
        latencyMs += rule.latencyMs ?? DEFAULT_LATENCY_MS;
        latencyHits += 1;
        continue;
      }
      return { latencyMs, latencyHits, rule };
    }
    return { latencyMs, latencyHits };
  }
}
