import { randomBytes } from 'node:crypto';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { createArchiveHandler } from '../src/index.js';
import { embeddedMetrics } from '../src/metrics.js';
import { freshTable, lambdaRecord, seq } from './helpers.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

/** The required structure of an Embedded Metric Format document (the specification's rules). */
function expectValidEmf(doc: Record<string, unknown>): void {
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown };
  expect(aws, 'an _aws member').toBeTypeOf('object');
  expect(Number.isInteger(aws.Timestamp), 'Timestamp: epoch milliseconds').toBe(true);
  expect(Array.isArray(aws.CloudWatchMetrics) && aws.CloudWatchMetrics.length > 0).toBe(true);
  for (const directive of aws.CloudWatchMetrics as Record<string, unknown>[]) {
    const ns = directive.Namespace;
    expect(typeof ns === 'string' && ns.length >= 1 && ns.length <= 255).toBe(true);
    const dims = directive.Dimensions as unknown[];
    expect(Array.isArray(dims)).toBe(true);
    for (const set of dims) {
      expect(Array.isArray(set) && set.length <= 30).toBe(true);
      for (const name of set as unknown[]) {
        expect(typeof name).toBe('string');
        expect(typeof doc[name as string], `dimension ${String(name)} is a string member`).toBe('string');
      }
    }
    const metrics = directive.Metrics as Record<string, unknown>[];
    expect(Array.isArray(metrics) && metrics.length <= 100).toBe(true);
    for (const metric of metrics) {
      const name = metric.Name as string;
      expect(typeof name === 'string' && name.length >= 1 && name.length <= 255).toBe(true);
      if (metric.Unit !== undefined) expect(UNITS.has(metric.Unit as string)).toBe(true);
      expect(typeof doc[name], `metric ${name} is a number member`).toBe('number');
    }
  }
}

describe('CloudWatch Embedded Metric Format', () => {
  it('one valid document per invocation and stream, with the counts and the oldest record age', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const lines: string[] = [];
    const handler = createArchiveHandler({
      dynamodb,
      mode: 'ALL',
      tableName,
      logger: { warn: () => {} },
      metrics: { namespace: 'Orders', log: (line) => void lines.push(line) },
    });
    const arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';
    const records = [
      lambdaRecord('a', seq(1), 'one', arn),
      lambdaRecord('big', seq(2), randomBytes(1_048_577), arn),
      lambdaRecord('a', seq(3), 'three', arn),
    ];
    await handler({ Records: records });
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
    expectValidEmf(doc);
    expect(doc).toMatchObject({
      StreamName: 'orders',
      Mode: 'ALL',
      RecordsWritten: 2,
      RecordsQuarantined: 1,
      RecordsFailed: 0,
      RecordsStale: 0,
    });
    // the records of lambdaRecord arrived at 1_700_000_000.5 s
    expect(doc.OldestRecordAge as number).toBeGreaterThan(Date.now() - 1_700_000_000_500 - 60_000);
    expect((doc._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]!.Namespace).toBe(
      'Orders',
    );
  });

  it('metrics: false emits nothing; the document without an arrival time has no age metric', async () => {
    const tableName = await freshTable(dynamodb, 'ALL');
    const spy: string[] = [];
    const original = console.log;
    console.log = (line: string) => void spy.push(line);
    try {
      const handler = createArchiveHandler({ dynamodb, mode: 'ALL', tableName, metrics: false });
      await handler({ Records: [lambdaRecord('a', seq(1), 'one')] });
    } finally {
      console.log = original;
    }
    expect(spy).toEqual([]);
    const doc = JSON.parse(
      embeddedMetrics(
        {
          streamName: 's',
          mode: 'LATEST',
          result: { written: 1, skippedStale: 0, compacted: 0, tombstoned: 0, quarantined: 0, failed: 0 },
          oldestRecordAgeMs: undefined,
        },
        'N',
        Date.now(),
      ),
    ) as Record<string, unknown>;
    expectValidEmf(doc);
    expect(doc.OldestRecordAge).toBeUndefined();
  });
});
