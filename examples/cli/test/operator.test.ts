import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTagsForStreamCommand } from '@aws-sdk/client-kinesis';
import { ArchiveWriter, createArchiveTable } from '@kinesis-archive/archive';
import { createStream, readStream, startFaultProxy, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliInTerminal, connectionArgs } from './helpers.js';

// The CLI as an operator meets it: timeouts and Ctrl-C, checks before work, one-line typed errors, exit codes.
const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());
const connection = connectionArgs(endpoints);

/** A loopback port that accepts connections and never answers. */
let silent: { server: Server; sockets: Set<Socket>; url: string };
beforeAll(async () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  silent = { server, sockets, url: `http://127.0.0.1:${port}` };
});
afterAll(async () => {
  for (const s of silent.sockets) s.destroy();
  await new Promise<void>((resolve) => silent.server.close(() => resolve()));
});

/** Pids of a process's descendants (children first). */
function descendants(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // no children
  }
  const children = out.split('\n').filter(Boolean).map(Number);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/**
 * An ALL archive of `count` records `record-<i>` over `keys` keys (written directly, as the archiver would) and an
 * empty one-shard stream to replay it into.
 */
async function archiveAndStream(prefix: string, count: number, keys: number) {
  const table = uniqueName(prefix);
  await createArchiveTable(clients.dynamodb, { tableName: table, mode: 'ALL' });
  const writer = new ArchiveWriter({ dynamodb: clients.dynamodb, tableName: table, mode: 'ALL' });
  const records = Array.from({ length: count }, (_, i) => ({
    PartitionKey: `key-${i % keys}`,
    SequenceNumber: String(49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000n + BigInt(i)),
    Data: Buffer.from(`record-${i}`),
  }));
  expect((await writer.write(records, { shardId: 'shardId-000000000000' })).failed).toEqual([]);
  const stream = uniqueName(prefix);
  await createStream(clients.kinesis, stream, { shards: 1 });
  return { table, stream };
}

describe('kinesis-archive for an operator', () => {
  it('in a terminal, replay draws its progress bar in place and ends its line; in a pipe, it prints lines', async () => {
    const { table, stream } = await archiveAndStream('op-progress', 400, 20);

    const tty = await cliInTerminal(['replay', '--table', table, '--stream', stream, ...connection]);
    expect(tty.code, tty.stdout + tty.stderr).toBe(0);
    // every draw returns to the start of the line and clears it; the last one shows the whole archive
    const draws = tty.stdout.split('\r\x1b[2K').slice(1);
    expect(draws.length).toBeGreaterThanOrEqual(1);
    expect(draws.at(-1)).toMatch(/^replay \[#{24}\] 100% 400\/400 /);
    // the bar's line is ended before the summary, so the shell prompt does not land on it
    expect(draws.at(-1)).toMatch(/\/s[^\r\n]*\r?\n/);
    expect(tty.stdout).toMatch(/\nreplayed 400 of 400 records into /);

    const target = uniqueName('op-progress');
    await createStream(clients.kinesis, target, { shards: 1 });
    const piped = await cli(['replay', '--table', table, '--stream', target, ...connection]);
    expect(piped.code).toBe(0);
    expect(`${piped.stdout}${piped.stderr}`).not.toContain('\x1b');
    expect(piped.stderr).toMatch(/^replay \[#{24}\] 100% 400\/400 .*$/m);
  });

  it('--version prints the version of the package', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const run = await cli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  it('Ctrl-C ends a command whose request hangs within 2 s, with exit code 130', async () => {
    const run = await cli(['query', '--table', 't', '--key', 'k', '--endpoint', silent.url], {
      afterMs: 1_500,
    });
    expect(run.code).toBe(130);
    expect(run.afterSignalMs).toBeLessThan(2_000 + 1_500); // the grace time, with room for a loaded machine
    expect(run.stderr).toMatch(/interrupt/);
  });

  it('an interrupted replay prints what it did, and the same command resumes from its checkpoint', async () => {
    const { table, stream } = await archiveAndStream('op-interrupt', 3_000, 50);
    // every PutRecords waits 400 ms, so the replay is still running when Ctrl-C comes
    const slow = await startFaultProxy({
      target: endpoints.kinesis!,
      seed: 11,
      rules: [{ operation: 'PutRecords', fault: 'latency', latencyMs: 400, probability: 1 }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'kinesis-archive-interrupt-'));
    try {
      const args = [
        'replay',
        '--table',
        table,
        '--stream',
        stream,
        '--checkpoint',
        join(dir, 'checkpoint.json'),
        '--kinesis-endpoint',
        slow.endpoint,
        '--dynamodb-endpoint',
        endpoints.dynamodb!,
        '--region',
        endpoints.region,
      ];
      const run = await cli(args, { afterMs: 1_200 });
      expect(run.code, run.stderr).toBe(130);
      const line = /replayed (\d+) of (\d+) records into .* \(aborted\)/.exec(run.stdout);
      expect(line, run.stdout).not.toBeNull();
      expect(Number(line![1])).toBeLessThan(3_000);
      expect(run.stderr).toMatch(/not done: run the same command again to resume/);
      slow.setRules([]);
      const resumed = await cli(args);
      expect(resumed.code, resumed.stderr).toBe(0);
      const sent = Number(/replayed (\d+) of/.exec(resumed.stdout)?.[1]);
      expect(Number(line![1]) + sent).toBeGreaterThanOrEqual(3_000);
      const onStream = new Set<string>();
      for (const shard of await readStream(clients.kinesis, stream)) {
        for (const record of shard.records) onStream.add(Buffer.from(record.Data ?? []).toString());
      }
      expect(onStream.size).toBe(3_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await slow.stop();
    }
  });

  it('a missing region says so, with --region in the hint (1)', async () => {
    // Credentials in the environment (so the endpoint is not taken for a stand-in, which defaults the region) and
    // the silent loopback endpoint: nothing can leave the machine, and the SDK stops before sending anyway.
    const run = await cli(['query', '--table', 'table-1', '--key', 'k', '--endpoint', silent.url], {
      env: {
        AWS_ACCESS_KEY_ID: 'test-key-id',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_REGION: undefined,
        AWS_DEFAULT_REGION: undefined,
        AWS_CONFIG_FILE: join(tmpdir(), 'kinesis-archive-no-such-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'kinesis-archive-no-such-credentials'),
      },
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^kinesis-archive: error \[NO_REGION\]: .*--region/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a request that gets no answer fails after --timeout with a typed error and what to check (1)', async () => {
    const started = Date.now();
    const run = await cli([
      'query',
      '--table',
      'table-1',
      '--key',
      'k',
      '--endpoint',
      silent.url,
      '--timeout',
      '1',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^kinesis-archive: error \[TIMEOUT\]: .*1000 ms.*check the endpoint/);
    expect(Date.now() - started).toBeLessThan(60_000); // three attempts of 1 s and their backoff, with room
  });

  it('an endpoint that is not a URL is a usage error (2)', async () => {
    const run = await cli(['query', '--table', 't', '--key', 'k', '--endpoint', 'not-a-url']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--endpoint expects a URL/);
    expect(run.stderr).not.toMatch(/TypeError/);
  });

  it('query --mode that the table schema contradicts says so before any read (2)', async () => {
    const tableName = uniqueName('op-all');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'ALL', ttl: false });
    const run = await cli(['query', '--table', tableName, '--key', 'k', '--mode', 'LATEST', ...connection]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is an ALL archive.*--mode ALL/);
    expect(run.stderr).not.toMatch(/ValidationException/);
  });

  it('query for an unknown key says so on stderr and exits 0; --json prints []', async () => {
    const tableName = uniqueName('op-empty');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'ALL', ttl: false });
    const text = await cli(['query', '--table', tableName, '--key', 'nobody', ...connection]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/no records for key "nobody"/);
    const json = await cli(['query', '--table', tableName, '--key', 'nobody', '--json', ...connection]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('tail on a table without a stream fails (1) with a typed message and what to do', async () => {
    const tableName = uniqueName('op-nostream');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'LATEST', ttl: false });
    const run = await cli(['tail', '--table', tableName, ...connection]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error \[NO_STREAM\]: table ".*" has no stream enabled \(enable one: /);
    expect(run.stderr).not.toMatch(/--help/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('archive without --mode on a stream with no mode tag says the mode is missing, before any work (2)', async () => {
    const stream = uniqueName('op-untagged');
    await createStream(clients.kinesis, stream, { shards: 1 });
    const run = await cli(['archive', '--stream', stream, '--until-idle', ...connection]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no StreamArchiveMode tag.*pass --mode ALL or --mode LATEST/);
    expect(run.stderr).not.toMatch(/partial|retrying|EVENT_SOURCE/);
  });

  it('archive to a missing table suggests --create-table (1)', async () => {
    const stream = uniqueName('op-notable');
    await createStream(clients.kinesis, stream, { shards: 1 });
    const run = await cli(['archive', '--stream', stream, '--mode', 'ALL', '--until-idle', ...connection]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\[TABLE_NOT_FOUND\].*does not exist \(add --create-table/);
  });

  it('replay to a missing stream fails (1) with STREAM_NOT_FOUND, not the raw SDK error', async () => {
    const tableName = uniqueName('op-replay');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'ALL', ttl: false });
    const stream = uniqueName('op-missing');
    const run = await cli(['replay', '--table', tableName, '--stream', stream, ...connection]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error \[STREAM_NOT_FOUND\]: stream ".*" does not exist/);
    expect(run.stderr).not.toMatch(/ResourceNotFoundException/);
  });

  it('local with --no-kinesis --no-dynamodb starts nothing: a usage error (2)', async () => {
    const run = await cli(['local', '--no-kinesis', '--no-dynamodb']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/starts nothing/);
  });

  it('local says it is starting, prints the SDK client settings, and exits 1 when a stand-in dies', async () => {
    let killed = false;
    const run = await cli(['local', '--no-dynamodb', '--json'], {
      onStdout: (stdout, pid) => {
        if (killed || !stdout.includes('\n')) return;
        killed = true;
        // the CLI -> the stand-in's supervisor -> kinesis-mock: kill the last one, as `kill -9` would
        const tree = descendants(pid);
        const standIn = tree.at(-1);
        if (standIn !== undefined) process.kill(standIn, 'SIGKILL');
      },
    });
    expect(killed).toBe(true);
    expect(run.stderr).toMatch(/starting kinesis-mock/);
    const ready = JSON.parse(run.stdout.split('\n')[0]!) as { sdk: string };
    expect(ready.sdk).toMatch(/NodeHttpHandler/);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error \[STAND_IN_DIED\]: kinesis-mock exited/);
  });

  it('create-stream, put, archive and query: the walk-through with the CLI alone', async () => {
    const stream = uniqueName('op-walk');
    const created = await cli([
      'create-stream',
      '--stream',
      stream,
      '--shards',
      '2',
      '--mode',
      'ALL',
      '--json',
      ...connection,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ stream, created: true, shards: 2, mode: 'ALL' });
    const again = await cli(['create-stream', '--stream', stream, '--json', ...connection]);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false });
    const tags = await clients.kinesis.send(new ListTagsForStreamCommand({ StreamName: stream }));
    expect(tags.Tags).toContainEqual({ Key: 'StreamArchiveMode', Value: 'ALL' });

    const dir = mkdtempSync(join(tmpdir(), 'ka-put-'));
    try {
      const file = join(dir, 'orders.jsonl');
      const lines = [
        '{"id":"order-1","total":3}',
        'not json',
        '{"id":"order-2","total":5}',
        '{"total":7}',
        '{"id":"order-1","total":4}',
      ];
      writeFileSync(file, `${lines.join('\n')}\n`);
      const put = await cli([
        'put',
        '--stream',
        stream,
        '--file',
        file,
        '--key-field',
        'id',
        '--json',
        ...connection,
      ]);
      // the two bad lines are reported by number, the others sent: nothing dropped silently
      expect(put.code).toBe(1);
      expect(JSON.parse(put.stdout)).toMatchObject({ read: 5, sent: 3, failed: 2 });
      expect(put.stderr).toMatch(/line 2: not JSON/);
      expect(put.stderr).toMatch(/line 4: no partition key/);
      const raw = join(dir, 'raw.txt');
      writeFileSync(raw, 'first\nsecond\n');
      const putRaw = await cli([
        'put',
        '--stream',
        stream,
        '--file',
        raw,
        '--format',
        'lines',
        '--key',
        'raw-{n}',
        '--json',
        ...connection,
      ]);
      expect(putRaw.code, putRaw.stderr).toBe(0);
      expect(JSON.parse(putRaw.stdout)).toMatchObject({ read: 2, sent: 2, failed: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const inStream = (await readStream(clients.kinesis, stream)).flatMap((s) => s.records);
    expect(inStream.map((r) => r.PartitionKey).sort()).toEqual([
      'order-1',
      'order-1',
      'order-2',
      'raw-1',
      'raw-2',
    ]);

    // the mode comes from the tag create-stream set
    const archived = await cli([
      'archive',
      '--stream',
      stream,
      '--create-table',
      '--until-idle',
      '--json',
      ...connection,
    ]);
    expect(archived.code, archived.stderr).toBe(0);
    expect(JSON.parse(archived.stdout)).toMatchObject({ records: 5, mode: 'ALL' });
    const query = await cli([
      'query',
      '--table',
      `${stream}-archive-ALL`,
      '--key',
      'order-1',
      '--json',
      ...connection,
    ]);
    expect(query.code).toBe(0);
    expect((JSON.parse(query.stdout) as { text: string }[]).map((r) => r.text)).toEqual([
      '{"id":"order-1","total":3}',
      '{"id":"order-1","total":4}',
    ]);
  });

  it('put needs exactly one of --key-field and --key (2)', async () => {
    const run = await cli(['put', '--stream', 's', ...connection]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/one of --key-field .* or --key/);
  });
});
