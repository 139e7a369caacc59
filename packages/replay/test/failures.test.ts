import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDBFailureJournal,
  type FailureJournal,
  FileFailureJournal,
  type JournalEntry,
  MemoryFailureJournal,
  type ReplayRecord,
  replay,
} from '../src/index.js';
import {
  byKey,
  createStream,
  faultProxies,
  iterate,
  makeRecords,
  memoryStore,
  readStream,
} from './helpers.js';

const { clients, endpoints } = localAws();
const { kinesis, dynamodb } = clients;
afterAll(() => clients.destroy());

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ka-journal-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const proxies = faultProxies(endpoints, 3);
const throughProxy = proxies.through;

/** `n` records of key `k` (k#0..k#n-1), with one too large at `bad`. */
function keyHistory(key: string, n: number, bad: number): ReplayRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    partitionKey: key,
    data: i === bad ? Buffer.alloc(1_100_000, 1) : Buffer.from(`${key}#${i}`),
    sequenceNumber: String(100 + i),
  }));
}

describe('a record that failed for good (finding 1)', () => {
  it('is in the checkpoint before the cursor passes it: a crash right after cannot lose it, and a resume lists it', async () => {
    const streamName = await createStream(kinesis, 1);
    const records = [
      ...makeRecords(30, 5),
      { partitionKey: 'doomed', data: Buffer.from('payload'), explicitHashKey: '-1' },
      ...makeRecords(30, 5).map((r) => ({ ...r, partitionKey: `b-${r.partitionKey}` })),
    ];
    const store = memoryStore();
    const first = await replay({ source: iterate(records), kinesis, streamName, checkpoint: store });
    expect(first.ok).toBe(false);
    expect(first.failed).toHaveLength(1);
    // every checkpoint whose cursor passed the failed record (index 30) holds it, with its payload
    const passing = store.saved.filter((c) => {
      const after = c.units.iterable?.after;
      return after && 'index' in after && after.index >= 30;
    });
    expect(passing.length).toBeGreaterThan(0);
    for (const c of passing) {
      expect(c.failures?.map((f) => f.record.partitionKey)).toEqual(['doomed']);
      expect(Buffer.from(c.failures![0]!.record.data, 'base64').toString()).toBe('payload');
    }
    // "the process died" after any of those saves: a resume from it still reports the record, not ok
    const crashed = memoryStore();
    crashed.saved.push(passing[0]!);
    const second = await replay({ source: iterate(records), kinesis, streamName, checkpoint: crashed });
    expect(second.ok).toBe(false);
    expect(second.failed.map((f) => f.record.partitionKey)).toEqual(['doomed']);
    expect(second.failed[0]!.error.code).toBe('INVALID_EXPLICIT_HASH_KEY');
  });

  it('stops the replay (fail closed) when the journal cannot store it, the cursor before it', async () => {
    const streamName = await createStream(kinesis, 1);
    const broken: FailureJournal = {
      append: async () => {
        throw new Error('disk full');
      },
      list: async function* () {},
      remove: async () => {},
    };
    const records = [...makeRecords(20, 20), ...keyHistory('doomed', 1, 0), ...makeRecords(200, 20)];
    const result = await replay({ source: iterate(records), kinesis, streamName, journal: broken });
    expect(result.ok).toBe(false);
    expect(result.stoppedBy).toMatchObject({ code: 'JOURNAL_WRITE_FAILED' });
    const after = result.cursors.iterable?.after;
    expect(after && 'index' in after ? after.index : -1).toBeLessThan(20);
    expect(result.unsent.map((p) => p.partitionKey)).toContain('doomed');
  });

  it('beyond the bound a checkpoint can hold (no journal), stops with JOURNAL_FULL rather than lose one', async () => {
    const streamName = await createStream(kinesis, 1);
    const bad = Array.from({ length: 150 }, (_, i) => ({
      partitionKey: `bad-${i}`,
      data: 42 as unknown as Uint8Array,
    }));
    const result = await replay({ source: bad, kinesis, streamName, checkpoint: memoryStore() });
    expect(result.stoppedBy).toMatchObject({ code: 'JOURNAL_FULL' });
    expect(result.journaled).toBe(100);
    expect(result.failed).toHaveLength(100);
    expect(result.journaled + result.unsent.length).toBe(result.read);
  });
});

describe('per-key order after a failure (finding 5)', () => {
  it("does not send a key's later records once one failed for good: they are journaled as blocked, in order", async () => {
    const streamName = await createStream(kinesis, 1);
    const journal = new MemoryFailureJournal();
    const other = makeRecords(40, 4);
    const result = await replay({
      source: iterate([...keyHistory('acct', 6, 2), ...other]),
      kinesis,
      streamName,
      journal,
    });
    expect(result.sent).toBe(2 + 40);
    expect(journal.entries.map((e) => [e.record.sequenceNumber, e.error.code, e.blockedBy])).toEqual([
      ['102', 'RECORD_TOO_LARGE', undefined],
      ['103', 'KEY_BLOCKED', 'acct'],
      ['104', 'KEY_BLOCKED', 'acct'],
      ['105', 'KEY_BLOCKED', 'acct'],
    ]);
    const got = byKey(await readStream(kinesis, streamName));
    expect(got.get('acct')?.map((h) => Buffer.from(h, 'hex').toString())).toEqual(['acct#0', 'acct#1']);
    // the other keys are whole
    for (const [key, list] of byKey(other)) expect(got.get(key)).toEqual(list);
  });

  it("onKeyFailure: 'continue' sends them", async () => {
    const streamName = await createStream(kinesis, 1);
    const result = await replay({
      source: keyHistory('acct', 6, 2),
      kinesis,
      streamName,
      onKeyFailure: 'continue',
    });
    expect(result.sent).toBe(5);
    expect(result.failed.map((f) => f.error.code)).toEqual(['RECORD_TOO_LARGE']);
  });

  it('keeps the key blocked in a later run, and retryFailed sends the journaled records first, in order', async () => {
    const streamName = await createStream(kinesis, 1);
    const journal = new FileFailureJournal(join(dir, `${uniqueName('j')}.jsonl`));
    // run 1: every PutRecords entry of key acct fails for good (throttled, no retry); other keys go
    const records = [...keyHistory('acct', 4, -1), ...makeRecords(20, 4)];
    const faulty = await throughProxy([
      { operation: 'PutRecords', fault: 'partial', at: [1], entryFailureRate: 1 },
    ]);
    const first = await replay({
      source: [records[0]!],
      kinesis: faulty,
      streamName,
      journal,
      writer: { retry: { maxAttempts: 1 } },
    });
    expect(first.failed.map((f) => f.record.sequenceNumber)).toEqual(['100']);
    // run 2: the rest of the source; acct is still blocked by its journaled record
    const second = await replay({ source: records.slice(1), kinesis, streamName, journal });
    expect(second.failed.map((f) => [f.record.sequenceNumber, f.error.code])).toEqual([
      ['100', 'PUT_RECORDS_FAILED'],
      ['101', 'KEY_BLOCKED'],
      ['102', 'KEY_BLOCKED'],
      ['103', 'KEY_BLOCKED'],
    ]);
    // run 3: retryFailed sends acct#0..3 in order, and they leave the journal
    const third = await replay({ source: [], kinesis, streamName, journal, retryFailed: true });
    expect(third).toMatchObject({ ok: true, retriedFromJournal: 4, failed: [] });
    const got = byKey(await readStream(kinesis, streamName));
    expect(got.get('acct')?.map((h) => Buffer.from(h, 'hex').toString())).toEqual([
      'acct#0',
      'acct#1',
      'acct#2',
      'acct#3',
    ]);
    const left: JournalEntry[] = [];
    for await (const e of journal.list()) left.push(e);
    expect(left).toEqual([]);
  });
});

describe('a fatal error mid-replay (finding 3)', () => {
  it('stops within one request round with the cursor before the first unsent record; a resume completes, nothing lost', async () => {
    const streamName = await createStream(kinesis, 2);
    const records = makeRecords(3_000, 300, 64);
    // the 3rd PutRecords is refused as a whole, for a reason that fails every record
    const faulty = await throughProxy([
      { operation: 'PutRecords', fault: 'throttle', at: [3], errorCode: 'AccessDeniedException' },
    ]);
    const store = memoryStore();
    const options = {
      streamName,
      rateLimit: false as const,
      checkpoint: store,
      writer: { maxBatchRecords: 100, concurrency: 1 },
    };
    const first = await replay({ ...options, source: iterate(records), kinesis: faulty });
    expect(first.ok).toBe(false);
    expect(first.stoppedBy).toMatchObject({ code: 'PUT_RECORDS_FAILED', errorCode: 'AccessDeniedException' });
    expect(first.failed).toEqual([]);
    expect(first.sent).toBe(200); // two requests went; the third was refused; no fourth was sent
    expect(proxies.proxy.counts().byOperation.PutRecords?.requests).toBe(3);
    const after = store.saved.at(-1)!.units.iterable!.after;
    expect(after && 'index' in after ? after.index : -1).toBe(199);
    // resume without the fault
    const second = await replay({ ...options, source: iterate(records), kinesis });
    expect(second.ok).toBe(true);
    expect(second.sent).toBe(2_800);
    const back = await readStream(kinesis, streamName);
    expect(back).toHaveLength(3_000);
    expect(byKey(back)).toEqual(byKey(records));
  });
});

describe('abort (finding 6)', () => {
  it('lists the records left unsent, those held for aggregation included', async () => {
    const streamName = await createStream(kinesis, 2);
    const controller = new AbortController();
    async function* source(): AsyncIterable<ReplayRecord> {
      yield* makeRecords(50, 10);
      controller.abort(); // while 50 records sit in the aggregates
      yield* makeRecords(10, 10);
    }
    const result = await replay({
      source: source(),
      kinesis,
      streamName,
      aggregate: true,
      aggregateMaxAgeMs: 60_000,
      signal: controller.signal,
    });
    expect(result.aborted).toBe(true);
    expect(result.sent).toBe(0);
    expect(result.unsent).toHaveLength(50);
    expect(result.cursors.iterable).toEqual({ done: false });
    expect(await readStream(kinesis, streamName)).toHaveLength(0);
  });
});

describe('journals', () => {
  const entry = (id: string, bytes: number): JournalEntry => ({
    id,
    unit: 'iterable',
    source: { index: 1, partitionKey: 'k' },
    record: { partitionKey: 'k', data: Buffer.alloc(bytes, 7).toString('base64'), sequenceNumber: '5' },
    error: { code: 'PUT_RECORDS_FAILED', message: 'x' },
    failedAt: new Date(0).toISOString(),
  });

  it('FileFailureJournal: append, replace, remove, and a line torn by a crash is skipped', async () => {
    const path = join(dir, 'torn.jsonl');
    const journal = new FileFailureJournal(path);
    await journal.append([entry('a', 3), entry('b', 4)]);
    await appendFile(path, '{"id":"c","unit":"iter'); // a crash mid-append
    await journal.append([{ ...entry('b', 5), error: { code: 'KEY_BLOCKED', message: 'y' } }, entry('d', 1)]);
    await journal.remove(['a']);
    const got: JournalEntry[] = [];
    for await (const e of journal.list()) got.push(e);
    expect(got.map((e) => [e.id, e.error.code, Buffer.from(e.record.data, 'base64').length])).toEqual([
      ['b', 'KEY_BLOCKED', 5],
      ['d', 'PUT_RECORDS_FAILED', 1],
    ]);
    await writeFile(join(dir, 'empty.jsonl'), '');
    const none: JournalEntry[] = [];
    for await (const e of new FileFailureJournal(join(dir, 'missing.jsonl')).list()) none.push(e);
    expect(none).toEqual([]);
  });

  it('DynamoDBFailureJournal: round-trips a 1 MiB payload over several items, lists in order, removes every item', async () => {
    const tableName = uniqueName('journal');
    await DynamoDBFailureJournal.createTable(dynamodb, tableName);
    const journal = new DynamoDBFailureJournal({ dynamodb, tableName, jobId: 'job-1' });
    const other = new DynamoDBFailureJournal({ dynamodb, tableName, jobId: 'job-2' });
    await journal.append([entry('0001', 1_048_576), entry('0002', 10)]);
    await other.append([entry('0001', 1)]);
    const got: JournalEntry[] = [];
    for await (const e of journal.list()) got.push(e);
    expect(got.map((e) => [e.id, Buffer.from(e.record.data, 'base64').length])).toEqual([
      ['0001', 1_048_576],
      ['0002', 10],
    ]);
    expect(Buffer.from(got[0]!.record.data, 'base64').equals(Buffer.alloc(1_048_576, 7))).toBe(true);
    await journal.remove(['0001', '0002', 'nope']);
    const left: JournalEntry[] = [];
    for await (const e of journal.list()) left.push(e);
    expect(left).toEqual([]);
    const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const items = await dynamodb.send(new ScanCommand({ TableName: tableName }));
    expect(items.Items?.map((i) => i.jobId?.S)).toEqual(['job-2']);
  });
});
