import { describe, expect, it } from 'vitest';
import { partialApplies, planBatchWriteItem, planPutRecords } from '../src/fault-partial.js';
import { errorAnswer, parseTarget } from '../src/fault-responses.js';
import { FaultPlanner } from '../src/fault-rules.js';
import { seededRandom } from '../src/prng.js';

/** A "random" source that replays fixed numbers. */
const replay =
  (...values: number[]) =>
  () =>
    values.shift() ?? 0.99;

describe('seededRandom', () => {
  it('repeats for a seed, differs across seeds, and stays in [0, 1)', () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    const c = seededRandom(6);
    const xs = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(xs);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('FaultPlanner', () => {
  it('draws only for matching rules, adds latency up, and lets the first other fault win', () => {
    const planner = new FaultPlanner(replay(0.1, 0.1, 0.1), [
      { operation: 'GetRecords', fault: 'drop', probability: 1 },
      { operation: /Put/g, fault: 'latency', probability: 0.5, latencyMs: 10 },
      { fault: 'throttle', probability: 0.5 },
      { fault: 'internal', probability: 1 },
    ]);
    expect(planner.decide('PutRecords', true)).toEqual({
      latencyMs: 10,
      latencyHits: 1,
      rule: { fault: 'throttle', probability: 0.5 },
    });
    // A RegExp with the g flag still matches every time.
    expect(planner.decide('PutRecord', true).latencyMs).toBe(10);
  });

  it('skips partial rules that cannot apply, and honours maxCount', () => {
    const planner = new FaultPlanner(replay(), [
      { fault: 'partial', probability: 1 },
      { fault: 'throttle', probability: 1, maxCount: 1 },
    ]);
    expect(planner.decide('ListShards', false).rule?.fault).toBe('throttle');
    expect(planner.decide('ListShards', false).rule).toBeUndefined();
    expect(planner.decide('PutRecords', true).rule?.fault).toBe('partial');
  });

  it('fires a scheduled rule at exactly its matching requests, counting those an earlier rule took', () => {
    let draws = 0;
    const random = () => {
      draws++;
      return 0.99; // never below a probability: only schedules fire
    };
    const planner = new FaultPlanner(random, [
      { operation: 'PutRecords', fault: 'drop', at: [1] },
      { operation: 'PutRecords', fault: 'throttle', at: [1, 3] },
      { operation: 'PutRecords', fault: 'partial', at: [2], probability: 0.5 },
    ]);
    const fired = [1, 2, 3, 4].map(() => planner.decide('PutRecords', true).rule?.fault);
    // The 1st request goes to the drop rule; the throttle rule still counts it, so its next one is the 3rd.
    expect(fired).toEqual(['drop', 'partial', 'throttle', undefined]);
    expect(planner.decide('ListShards', false).rule).toBeUndefined();
    // Only the rule with a probability draws, and only when it is reached off its schedule: the 4th request (the
    // 1st and 3rd were taken by earlier rules before it was reached).
    expect(draws).toBe(1);
  });

  it('rejects a malformed schedule, and a rule with neither schedule nor probability', () => {
    expect(() => new FaultPlanner(replay(), [{ fault: 'throttle', at: [0] }])).toThrow(/at must be/);
    expect(() => new FaultPlanner(replay(), [{ fault: 'throttle', at: [1.5] }])).toThrow(/at must be/);
    expect(() => new FaultPlanner(replay(), [{ fault: 'throttle' }])).toThrow(/probability/);
  });
});

describe('partial plans', () => {
  const request = {
    StreamName: 's',
    Records: ['a', 'b', 'c', 'd'].map((k) => ({ Data: 'AA==', PartitionKey: k })),
  };

  it('PutRecords: merges the stand-in results back in request order, counting its own failures too', () => {
    const plan = planPutRecords(
      request,
      0.5,
      replay(0.9, 0.1, 0.9, 0.1),
      'ProvisionedThroughputExceededException',
    );
    expect(plan.failedEntries).toBe(2);
    expect(
      JSON.parse(plan.forwardBody?.toString() ?? '{}').Records.map(
        (r: { PartitionKey: string }) => r.PartitionKey,
      ),
    ).toEqual(['a', 'c']);
    const merged = plan.merge({
      FailedRecordCount: 1,
      Records: [
        { SequenceNumber: '1', ShardId: 'shardId-0' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'x' },
      ],
    });
    expect(merged?.FailedRecordCount).toBe(3);
    expect(
      ((merged?.Records ?? []) as { ErrorCode?: string; SequenceNumber?: string }[]).map(
        (r) => r.ErrorCode ?? r.SequenceNumber,
      ),
    ).toEqual([
      '1',
      'ProvisionedThroughputExceededException',
      'InternalFailure',
      'ProvisionedThroughputExceededException',
    ]);
    // An answer of the wrong length is not trusted: it is passed through untouched.
    expect(plan.merge({ Records: [] })).toBeUndefined();
  });

  it('fails at least one entry even when no draw is below the rate', () => {
    const plan = planPutRecords(request, 0, replay(0.5, 0.5, 0.5, 0.5, 0.6), 'InternalFailure');
    expect(plan.failedEntries).toBe(1);
  });

  it('BatchWriteItem: keeps the stand-in UnprocessedItems and adds its own per table', () => {
    const put = (pk: string) => ({ PutRequest: { Item: { pk: { S: pk } } } });
    const plan = planBatchWriteItem(
      { RequestItems: { t1: [put('1'), put('2')], t2: [put('3')] } },
      0.5,
      replay(0.1, 0.9, 0.1),
    );
    expect(JSON.parse(plan.forwardBody?.toString() ?? '{}')).toEqual({ RequestItems: { t1: [put('2')] } });
    expect(plan.merge({ UnprocessedItems: { t1: [put('2')] } })).toEqual({
      UnprocessedItems: { t1: [put('2'), put('1')], t2: [put('3')] },
    });
  });

  it('applies only to well-formed, non-empty PutRecords and BatchWriteItem bodies', () => {
    expect(partialApplies('PutRecords', request)).toBe(true);
    expect(partialApplies('PutRecords', { Records: [] })).toBe(false);
    expect(partialApplies('PutRecords', undefined)).toBe(false);
    expect(partialApplies('BatchWriteItem', { RequestItems: { t: 'nope' } })).toBe(false);
    expect(partialApplies('BatchWriteItem', { RequestItems: { t: [] } })).toBe(false);
    expect(partialApplies('GetRecords', request)).toBe(false);
  });
});

describe('AWS shapes', () => {
  it('parses X-Amz-Target for the three services', () => {
    expect(parseTarget('Kinesis_20131202.PutRecords')).toEqual({
      service: 'kinesis',
      operation: 'PutRecords',
    });
    expect(parseTarget('DynamoDB_20120810.BatchWriteItem')).toEqual({
      service: 'dynamodb',
      operation: 'BatchWriteItem',
    });
    expect(parseTarget('DynamoDBStreams_20120810.GetRecords')).toEqual({
      service: 'dynamodbStreams',
      operation: 'GetRecords',
    });
    expect(parseTarget(undefined)).toEqual({ service: 'unknown', operation: '' });
  });

  it('builds JSON 1.1 errors for Kinesis and namespaced JSON 1.0 errors for DynamoDB', () => {
    const k = errorAnswer('kinesis', 400, 'ThrottlingException', 'PutRecords');
    expect(k.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(k.headers['x-amzn-errortype']).toBe('ThrottlingException');
    expect(JSON.parse(k.body.toString()).__type).toBe('ThrottlingException');
    const d = errorAnswer('dynamodb', 500, 'InternalServerError', 'PutItem');
    expect(d.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(JSON.parse(d.body.toString()).__type).toBe('com.amazonaws.dynamodb.v20120810#InternalServerError');
    expect(d.headers['x-amz-crc32']).toMatch(/^\d+$/);
  });
});
