import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { ArchiveWriter, createArchiveTable } from '@kinesis-archive/archive';
import { createStream, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, connectionArgs, putRecords } from './helpers.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());
const connection = connectionArgs(endpoints);

describe('kinesis-archive', () => {
  it('prints help for the program and every command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const command of [
      'local',
      'create-table',
      'archive',
      'query',
      'scan',
      'replay',
      'compact',
      'quarantine',
      'tail',
    ]) {
      expect(top.stdout).toContain(command);
      const help = await cli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: kinesis-archive ${command}`);
    }
  });

  it('exits with 2 on bad usage and says why on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['archive', '--stream', 's', '--batch-size', '0'],
        /--batch-size expects a whole number from 1 to 10000/,
      ],
      [
        ['archive', '--stream', 's', '--from', 'yesterday'],
        /--from expects trim-horizon, latest or an ISO timestamp/,
      ],
      [['create-table', '--mode', 'SOME'], /--mode expects ALL or LATEST/],
      [['query', '--table', 't'], /required option '--key <partitionKey>' not specified/],
      [['nonsense'], /unknown command 'nonsense'/],
      [['scan', '--table', 't', '--segment', '1'], /--segment and --total-segments go together/],
      [['scan', '--table', 't', '--as-of', 'yesterday'], /--as-of expects an ISO timestamp/],
      [
        ['scan', '--table', 't', '--as-of', '2026-11-24T09:00:00Z', '--from', '2026-11-24T08:00:00Z'],
        /--as-of is a point in time: it does not go with --from or --to/,
      ],
      [['scan', '--table', 't', '--tombstones'], /--tombstones goes with --as-of/],
      [['replay', '--table', 't', '--stream', 's', '--tombstones'], /--tombstones goes with --as-of/],
      [['replay', '--table', 't', '--stream', 's', '--retry-failed'], /--retry-failed needs the --journal/],
      [
        ['replay', '--table', 't', '--stream', 's', '--segments', '2', '--key', 'k'],
        /--segments splits a scan/,
      ],
      [['replay', '--table', 't', '--stream', 's', '--segments', '0'], /--segments expects a whole number/],
      [['replay', '--table', 't', '--stream', 's', '--limit', 'x'], /--limit expects a whole number/],
      [
        ['compact', '--table', 't', '--to-table', 'u', '--segments', '0'],
        /--segments expects a whole number/,
      ],
      [
        ['quarantine', '--table', 't', '--max-record-bytes', 'lots'],
        /--max-record-bytes expects a whole number/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    }
  });

  it('exits with 1 and a clear message for an unknown table or stream', async () => {
    const table = uniqueName('missing');
    const query = await cli(['query', '--table', table, '--key', 'k', ...connection]);
    expect(query.code).toBe(1);
    expect(query.stderr).toContain(`table "${table}" does not exist`);
    const archive = await cli([
      'archive',
      '--stream',
      uniqueName('nostream'),
      '--mode',
      'ALL',
      '--create-table',
      ...connection,
    ]);
    expect(archive.code).toBe(1);
    expect(archive.stderr).toMatch(/\[STREAM_NOT_FOUND\].*does not exist/);
  });

  it('create-table, archive, query, scan and replay a stream end to end', async () => {
    const stream = uniqueName('cli');
    await createStream(clients.kinesis, stream, { shards: 2 });
    await putRecords(clients.kinesis, stream, 300, { keys: 10 });

    const created = await cli(['create-table', '--stream', stream, '--mode', 'ALL', '--json', ...connection]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ tableName: `${stream}-archive-ALL`, created: true });
    const again = await cli(['create-table', '--stream', stream, '--mode', 'ALL', '--json', ...connection]);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false });

    const archived = await cli([
      'archive',
      '--stream',
      stream,
      '--mode',
      'ALL',
      '--batch-size',
      '25',
      '--until-idle',
      '--json',
      ...connection,
    ]);
    expect(archived.stderr).not.toMatch(/error/);
    expect(archived.code).toBe(0);
    const summary = JSON.parse(archived.stdout);
    expect(summary).toMatchObject({ records: 300, table: `${stream}-archive-ALL`, retries: 0 });
    expect(summary.invocations).toBeGreaterThanOrEqual(12);
    expect(Object.keys(summary.shards)).toHaveLength(2);

    const table = `${stream}-archive-ALL`;
    const query = await cli(['query', '--table', table, '--key', 'key-3', '--json', ...connection]);
    expect(query.code).toBe(0);
    const history = JSON.parse(query.stdout) as { text: string; data: string; sequenceNumber: string }[];
    expect(history.map((r) => r.text)).toEqual(Array.from({ length: 30 }, (_, i) => `record-${3 + i * 10}`));
    expect(Buffer.from(history[0]!.data, 'base64').toString()).toBe('record-3');
    const desc = await cli([
      'query',
      '--table',
      table,
      '--key',
      'key-3',
      '--order',
      'desc',
      '--limit',
      '2',
      '--json',
      ...connection,
    ]);
    expect((JSON.parse(desc.stdout) as { text: string }[]).map((r) => r.text)).toEqual([
      'record-293',
      'record-283',
    ]);
    const human = await cli(['query', '--table', table, '--key', 'key-3', '--limit', '1', ...connection]);
    expect(human.stdout).toMatch(/key-3 +\d+\.0 +"record-3"/);

    const scan = await cli(['scan', '--table', table, '--json', ...connection]);
    expect(scan.code).toBe(0);
    const lines = scan.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string });
    expect(new Set(lines.map((l) => l.text)).size).toBe(300);
    const limited = await cli(['scan', '--table', table, '--limit', '7', '--json', ...connection]);
    expect(limited.stdout.trim().split('\n')).toHaveLength(7);

    const target = uniqueName('cli-replay');
    await createStream(clients.kinesis, target, { shards: 1 });
    const dry = await cli([
      'replay',
      '--table',
      table,
      '--stream',
      target,
      '--dry-run',
      '--json',
      ...connection,
    ]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ ok: true, dryRun: true, read: 300, sent: 0 });
    const replayed = await cli([
      'replay',
      '--table',
      table,
      '--stream',
      target,
      '--aggregate',
      '--json',
      ...connection,
    ]);
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({
      ok: true,
      read: 300,
      sent: 300,
      failed: 0,
      mode: 'ALL',
    });
    expect(replayed.stderr).toMatch(/replay .*300\/300/);

    // resumable: --limit stops the first run part way, the same command with the checkpoint finishes it
    const dir = mkdtempSync(join(tmpdir(), 'cli-replay-'));
    try {
      const resumed = uniqueName('cli-resume');
      await createStream(clients.kinesis, resumed, { shards: 1 });
      const args = [
        'replay',
        '--table',
        table,
        '--stream',
        resumed,
        '--segments',
        '3',
        '--checkpoint',
        join(dir, 'cp.json'),
        '--journal',
        join(dir, 'journal.jsonl'),
        '--json',
        ...connection,
      ];
      const part = await cli([...args, '--limit', '100']);
      expect(part.code, part.stderr).toBe(0);
      expect(JSON.parse(part.stdout)).toMatchObject({ ok: true, sent: 100, done: false });
      const rest = await cli(args);
      expect(rest.code, rest.stderr).toBe(0);
      expect(JSON.parse(rest.stdout)).toMatchObject({ ok: true, sent: 200, done: true });
      const again = await cli(args);
      expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, read: 0, sent: 0, done: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('archive --from latest skips what is already in the stream', async () => {
    const stream = uniqueName('cli-latest');
    await createStream(clients.kinesis, stream, { shards: 1 });
    await putRecords(clients.kinesis, stream, 20);
    const run = await cli([
      'archive',
      '--stream',
      stream,
      '--mode',
      'LATEST',
      '--create-table',
      '--from',
      'latest',
      '--until-idle',
      '--json',
      ...connection,
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ records: 0, mode: 'LATEST' });
  });

  it('archive --until-idle interrupted by Ctrl-C before the tip exits with 130 and says so', async () => {
    const stream = uniqueName('cli-interrupted');
    await createStream(clients.kinesis, stream, { shards: 1 });
    await putRecords(clients.kinesis, stream, 300);
    let interrupted = false;
    const run = await cli(
      [
        'archive',
        '--stream',
        stream,
        '--mode',
        'ALL',
        '--create-table',
        '--batch-size',
        '1',
        '--until-idle',
        '--json',
        ...connection,
      ],
      {
        untilStderr: (stderr) => {
          if (interrupted || !/archive \d+/.test(stderr)) return false;
          interrupted = true;
          return true;
        },
      },
    );
    const summary = JSON.parse(run.stdout) as { records: number; aborted: boolean };
    expect(summary.records).toBeLessThan(300);
    expect(summary.aborted).toBe(true);
    expect(run.code).toBe(130);
  });

  it('tail prints the changes of a table stream as JSON lines, every type faithfully', async () => {
    const tableName = uniqueName('cli-tail');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'LATEST', ttl: false });
    await clients.dynamodb.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    for (const id of ['a', 'b']) {
      await clients.dynamodb.send(
        new PutItemCommand({ TableName: tableName, Item: { partitionKey: { S: id } } }),
      );
    }
    // every type printed faithfully: a number above 2^53, a binary, sets, a nested map and list
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          partitionKey: { S: 'c' },
          big: { N: '123456789012345678901234567890' },
          small: { N: '1.5' },
          bytes: { B: new Uint8Array([1, 2, 255]) },
          tags: { SS: ['x', 'y'] },
          counts: { NS: ['9007199254740993'] },
          blobs: { BS: [new Uint8Array([0])] },
          nested: { M: { list: { L: [{ N: '7' }, { BOOL: true }, { NULL: true }] } } },
        },
      }),
    );
    const run = await cli([
      'tail',
      '--table',
      tableName,
      '--limit',
      '3',
      '--poll-interval',
      '50',
      '--json',
      ...connection,
    ]);
    expect(run.code).toBe(0);
    const changes = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { eventName: string; keys: unknown });
    expect(changes.map((c) => [c.eventName, c.keys])).toEqual([
      ['INSERT', { partitionKey: 'a' }],
      ['INSERT', { partitionKey: 'b' }],
      ['INSERT', { partitionKey: 'c' }],
    ]);
    const last = JSON.parse(run.stdout.trim().split('\n')[2]!) as { newImage: Record<string, unknown> };
    const image = last.newImage;
    expect(image.big).toBe('123456789012345678901234567890');
    expect(image.small).toBe(1.5);
    expect(image.bytes).toBe(Buffer.from([1, 2, 255]).toString('base64'));
    expect([...(image.tags as string[])].sort()).toEqual(['x', 'y']);
    expect(image.counts).toEqual(['9007199254740993']);
    expect(image.blobs).toEqual(['AA==']);
    expect(image.nested).toEqual({ list: [7, true, null] });
  });

  it('scan --as-of, compact, replay --as-of and quarantine (list, redrive) on an ALL archive', async () => {
    const all = uniqueName('cli-all');
    const latest = uniqueName('cli-latest');
    await createArchiveTable(clients.dynamodb, { tableName: all, mode: 'ALL' });
    await createArchiveTable(clients.dynamodb, { tableName: latest, mode: 'LATEST' });
    const at = (key: string, n: number, iso: string, data: string | Uint8Array) => ({
      partitionKey: key,
      sequenceNumber: String(49_600_000_000_000_000_000n + BigInt(n)),
      data: typeof data === 'string' ? Buffer.from(data) : data,
      approximateArrivalTimestamp: new Date(iso),
      shardId: 'shardId-000000000000',
    });
    const written = await new ArchiveWriter({
      dynamodb: clients.dynamodb,
      tableName: all,
      mode: 'ALL',
    }).write([
      at('a', 1, '2026-11-24T08:00:00Z', 'a at 8'),
      at('a', 2, '2026-11-24T10:00:00Z', 'a at 10'),
      at('b', 3, '2026-11-24T08:30:00Z', 'b at 8:30'),
      at('b', 4, '2026-11-24T09:30:00Z', ''),
      at('big', 5, '2026-11-24T08:45:00Z', new Uint8Array(1_048_577)),
    ]);
    expect(written.quarantined).toHaveLength(1);

    const asOf = await cli([
      'scan',
      '--table',
      all,
      '--as-of',
      '2026-11-24T09:00:00Z',
      '--json',
      ...connection,
    ]);
    expect(asOf.code, asOf.stderr).toBe(0);
    const state = asOf.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { partitionKey: string; text: string })
      .map((r) => [r.partitionKey, r.text])
      .sort();
    expect(state).toEqual([
      ['a', 'a at 8'],
      ['b', 'b at 8:30'],
    ]);
    // at 10:00 with tombstones: b's newest record is empty, so b is gone
    const later = await cli([
      'scan',
      '--table',
      all,
      '--as-of',
      '2026-11-24T10:00:00Z',
      '--tombstones',
      '--json',
      ...connection,
    ]);
    expect(
      later.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { partitionKey: string }).partitionKey),
    ).toEqual(['a']);
    const wrongMode = await cli([
      'scan',
      '--table',
      latest,
      '--as-of',
      '2026-11-24T10:00:00Z',
      ...connection,
    ]);
    expect(wrongMode.code).toBe(2);
    expect(wrongMode.stderr).toMatch(/--as-of needs an ALL table/);

    const compacted = await cli(['compact', '--table', all, '--to-table', latest, '--json', ...connection]);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(JSON.parse(compacted.stdout)).toMatchObject({ keys: 2, written: 2, skippedStale: 0 });
    const swapped = await cli(['compact', '--table', latest, '--to-table', all, ...connection]);
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toMatch(/--table must be an ALL archive/);
    const again = await cli(['compact', '--table', all, '--to-table', latest, '--json', ...connection]);
    expect(JSON.parse(again.stdout)).toMatchObject({ keys: 2, written: 0, skippedStale: 2 });

    const replayed = await cli([
      'replay',
      '--table',
      all,
      '--stream',
      'unused',
      '--as-of',
      '2026-11-24T09:00:00Z',
      '--dry-run',
      '--json',
      ...connection,
    ]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ ok: true, read: 2, dryRun: true });

    const listed = await cli(['quarantine', '--table', all, '--json', ...connection]);
    expect(listed.code, listed.stderr).toBe(0);
    const [entry] = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entry).toMatchObject({
      partitionKey: 'big',
      bytes: 1_048_577,
      error: { code: 'RECORD_TOO_LARGE' },
    });
    const redriven = await cli([
      'quarantine',
      '--table',
      all,
      '--redrive',
      '--max-record-bytes',
      '2097152',
      '--json',
      ...connection,
    ]);
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(JSON.parse(redriven.stdout)).toMatchObject({ redriven: 1, stillQuarantined: 0, failed: 0 });
    const empty = await cli(['quarantine', '--table', all, '--json', ...connection]);
    expect(empty.stdout.trim()).toBe('');
  });

  it('local starts the stand-ins, prints their endpoints as JSON and stops on Ctrl-C', async () => {
    const run = await cli(['local', '--no-dynamodb', '--json'], { until: (out) => out.includes('\n') });
    expect(run.code).toBe(0);
    const ready = JSON.parse(run.stdout.split('\n')[0]!) as {
      endpoints: { kinesis: string };
      env: Record<string, string>;
    };
    expect(ready.endpoints.kinesis).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.env.AWS_ENDPOINT_URL_KINESIS).toBe(ready.endpoints.kinesis);
  });
});
