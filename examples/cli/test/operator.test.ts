import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTagsForStreamCommand } from '@aws-sdk/client-kinesis';
import { createArchiveTable } from '@kinesis-archive/archive';
import { createStream, readStream, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, connectionArgs } from './helpers.js';

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

describe('kinesis-archive for an operator', () => {
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
