/**
 * `pnpm demo`: the whole job on the local stand-ins. Produces 10,000 application events over 500 keys with the
 * aggregating producer into a 4-shard stream, archives them through the example archiver Lambda handler (via the
 * local event source runner) in ALL and LATEST mode, shows one key's history, replays the archives into fresh
 * streams, reads those back and verifies them against the archives, and prints a summary. Exits non-zero when a
 * verification fails.
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import {
  type ArchivedRecord,
  type ArchiveMode,
  ArchiveReader,
  archiveTableName,
  createArchiveTable,
} from '@kinesis-archive/archive';
import { describeError } from '@kinesis-archive/core';
import { createHandler } from '@kinesis-archive/example-lambda-archiver';
import { createProducer } from '@kinesis-archive/example-lambda-producer';
import { createStream, type LocalAws, startLocalAws } from '@kinesis-archive/local';
import { replay } from '@kinesis-archive/replay';
import { duration, type Output, processOutput, recordLine, table, textOf } from './cli/output.js';
import { ProgressBar } from './cli/progress.js';
import { demoEvents } from './demo/events.js';
import { readStream } from './demo/read-stream.js';
import { StepRunner, type StepTiming } from './demo/steps.js';
import { type Check, compareWithArchive, groupByKey } from './demo/verify.js';
import { runKinesisEventSource } from './event-source-runner.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Events produced. Default 10,000. */
  events?: number;
  /** Distinct keys. Default 500. */
  keys?: number;
  /** Shards of the source stream. Default 4. */
  shards?: number;
  /** Where progress and the summary go. Default stdout/stderr. */
  output?: Output;
  /** Stops the demo (the stand-ins are stopped all the same). */
  signal?: AbortSignal;
}

/** What the demo did: its timings and verifications. `ok` is false when a verification failed. */
export interface DemoResult {
  ok: boolean;
  checks: Check[];
  timings: StepTiming[];
  elapsedMs: number;
}

/** The whole archive, read in 4 parallel-scan segments. */
async function readAll(reader: ArchiveReader): Promise<ArchivedRecord[]> {
  const records: ArchivedRecord[] = [];
  const segments = [0, 1, 2, 3].map(async (segment) => {
    for await (const r of reader.scan({ segment, totalSegments: 4 })) records.push(r);
  });
  await Promise.all(segments);
  return records;
}

/** Runs the demo on freshly started stand-ins and stops them at the end, whatever happens. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const output = options.output ?? processOutput;
  const count = options.events ?? 10_000;
  const keyCount = options.keys ?? 500;
  const shardCount = options.shards ?? 4;
  const steps = new StepRunner(output);
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  let aws: LocalAws | undefined;
  try {
    aws = await steps.run(
      'start the stand-ins (kinesis-mock, DynamoDB Local)',
      () => startLocalAws(),
      (a) => `${a.endpoints.kinesis} ${a.endpoints.dynamodb}`,
    );
    const { kinesis, dynamodb } = aws.clients;
    const source = 'demo-events';
    await steps.run(`create the ${shardCount}-shard stream and the ALL / LATEST tables`, async () => {
      await createStream(kinesis, source, { shards: shardCount });
      for (const mode of ['ALL', 'LATEST'] as const) {
        await createArchiveTable(dynamodb, { tableName: archiveTableName(source, mode), mode });
      }
    });

    const events = demoEvents(count, keyCount);
    const produced = await steps.run(
      `produce ${count} events over ${keyCount} keys (aggregating producer)`,
      async () => {
        const producer = createProducer({ kinesis, streamName: source });
        const bar = new ProgressBar(output, 'produce');
        const t0 = Date.now();
        const total = { sent: 0, kinesisRecords: 0, failed: 0 };
        for (let i = 0; i < events.length; i += 500) {
          options.signal?.throwIfAborted();
          const result = await producer.send(events.slice(i, i + 500));
          total.sent += result.sent;
          total.kinesisRecords += result.kinesisRecords;
          total.failed += result.failed.length;
          bar.update(total.sent, count, total.sent / Math.max(0.001, (Date.now() - t0) / 1000));
        }
        bar.done();
        return total;
      },
      (t) => `${t.sent} events in ${t.kinesisRecords} Kinesis records`,
    );
    check(
      'producer: every event acknowledged',
      produced.sent === count && produced.failed === 0,
      `${produced.sent}/${count} sent, ${produced.failed} failed`,
    );

    const archive = (mode: ArchiveMode) =>
      runKinesisEventSource({
        kinesis,
        streamName: source,
        batchSize: 100,
        startingPosition: 'TRIM_HORIZON',
        stopWhenIdle: true,
        pollIntervalMs: 50,
        ...(options.signal ? { signal: options.signal } : {}),
        handler: createHandler({
          dynamodb,
          kinesis,
          env: { ARCHIVE_MODE: mode, ARCHIVE_TABLE: archiveTableName(source, mode) },
          metrics: false,
        }),
      });
    const [all, latest] = await steps.run(
      'archive through the example Lambda handler via the event source runner (ALL and LATEST)',
      () => Promise.all([archive('ALL'), archive('LATEST')]),
      ([a, l]) => `${a.invocations + l.invocations} invocations, ${a.retries + l.retries} retries`,
    );
    check(
      'runner: every Kinesis record handled (ALL, LATEST)',
      all.records === produced.kinesisRecords && latest.records === produced.kinesisRecords,
      `${all.records} and ${latest.records} of ${produced.kinesisRecords}`,
    );

    const allReader = new ArchiveReader({
      dynamodb,
      tableName: archiveTableName(source, 'ALL'),
      mode: 'ALL',
    });
    const latestReader = new ArchiveReader({
      dynamodb,
      tableName: archiveTableName(source, 'LATEST'),
      mode: 'LATEST',
    });
    const [allRecords, latestRecords] = await steps.run(
      'read both archives back',
      () => Promise.all([readAll(allReader), readAll(latestReader)]),
      ([a, l]) => `${a.length} records (ALL), ${l.length} (LATEST)`,
    );
    const allByKey = groupByKey(allRecords);
    const latestByKey = groupByKey(latestRecords);
    const expected = new Map<string, string[]>();
    for (const e of events) expected.set(e.key, [...(expected.get(e.key) ?? []), JSON.stringify(e.payload)]);
    let allExact = 0;
    let latestExact = 0;
    for (const [key, payloads] of expected) {
      const archived = (allByKey.get(key) ?? []).map((r) => textOf(r.data));
      if (archived.length === payloads.length && archived.every((t, i) => t === payloads[i])) allExact++;
      const last = latestByKey.get(key);
      if (last?.length === 1 && textOf(last[0]?.data ?? new Uint8Array()) === payloads[payloads.length - 1])
        latestExact++;
    }
    check(
      'ALL archive: every event, in order per key',
      allRecords.length === count && allExact === expected.size,
      `${allRecords.length} records, ${allExact}/${expected.size} keys exact`,
    );
    check(
      'LATEST archive: the last event of every key',
      latestRecords.length === expected.size && latestExact === expected.size,
      `${latestRecords.length} records, ${latestExact}/${expected.size} keys exact`,
    );

    const key = 'user-042';
    await steps.run(
      `show ${key}'s history (ArchiveReader.query)`,
      async () => {
        const history: ArchivedRecord[] = [];
        for await (const r of allReader.query({ partitionKey: key })) history.push(r);
        output.out(`\nHistory of ${key} (${history.length} records, ALL archive):`);
        const shown =
          history.length > 6 ? [...history.slice(0, 3), undefined, ...history.slice(-3)] : history;
        for (const r of shown) output.out(r ? `  ${recordLine(r)}` : '  ...');
        const current = await latestReader.get(key);
        output.out(`Latest (LATEST archive): ${current ? recordLine(current) : 'none'}\n`);
        return history.length;
      },
      (n) => `${n} records`,
    );

    const target = 'demo-replay-latest';
    const replayed = await steps.run(
      'replay the LATEST archive into a new stream (aggregated, ordered)',
      async () => {
        await createStream(kinesis, target, { shards: shardCount });
        const bar = new ProgressBar(output, 'replay');
        const result = await replay({
          source: latestReader,
          kinesis,
          streamName: target,
          aggregate: true,
          total: latestRecords.length,
          progressIntervalMs: 250,
          ...(options.signal ? { signal: options.signal } : {}),
          onProgress: (p) => bar.update(p.sent, latestRecords.length, p.recordsPerSecond, p.eta),
        });
        bar.done();
        return result;
      },
      (r) => `${r.sent} records in ${r.kinesisRecords} Kinesis records`,
    );
    check(
      'replay: ok, nothing failed',
      replayed.ok && replayed.failed.length === 0,
      `sent ${replayed.sent} of ${replayed.read}, ${replayed.failed.length} failed${replayed.failed[0] ? `: ${replayed.failed[0].error.code}: ${replayed.failed[0].error.message}` : ''}${replayed.stoppedBy ? `; stopped: ${describeError(replayed.stoppedBy)}` : ''}`,
    );

    const content = await steps.run(
      'read the replayed stream back (GetRecords + deaggregate) and verify',
      () => readStream(kinesis, target),
      (c) => `${c.userRecords} user records in ${c.kinesisRecords} Kinesis records`,
    );
    checks.push(...compareWithArchive('replayed LATEST', content, latestByKey));
  } catch (error) {
    check('the demo ran to the end', false, describeError(error));
  } finally {
    if (aws) await steps.run('stop the stand-ins', () => aws?.stop() ?? Promise.resolve());
  }
  const ok = checks.every((c) => c.ok);
  const elapsedMs = Date.now() - started;
  output.out('\nSteps');
  for (const line of table([
    ['step', 'time', 'result'],
    ...steps.timings.map((t) => [t.name, duration(t.ms), t.detail]),
  ])) {
    output.out(`  ${line}`);
  }
  output.out('\nVerification');
  for (const line of table(checks.map((c) => [c.ok ? 'PASS' : 'FAIL', c.name, c.detail])))
    output.out(`  ${line}`);
  output.out(`\n${ok ? 'Demo passed' : 'Demo FAILED'} in ${duration(elapsedMs)}.`);
  return { ok, checks, timings: steps.timings, elapsedMs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const result = await runDemo({ signal: controller.signal });
  process.exitCode = result.ok ? 0 : 1;
}
