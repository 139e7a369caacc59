import { ArchiveReader, archiveTableName, createArchiveTable } from '@kinesis-archive/archive';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { createHandler } from '../src/handler.js';
import { byKeyAndBytes, readAll, streamWithRecords } from './helpers.js';

const { clients } = localAws();
afterAll(() => clients.destroy());

describe('archiver handler', () => {
  it('archives a Lambda-shaped event in ALL mode, configured from the environment', async () => {
    const { sent, event } = await streamWithRecords(clients.kinesis, 200, 20);
    expect(event.Records).toHaveLength(200);
    const tableName = uniqueName('archive');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'ALL' });
    const handler = createHandler({
      dynamodb: clients.dynamodb,
      env: { ARCHIVE_TABLE: tableName, ARCHIVE_MODE: 'all', ARCHIVE_TTL_SECONDS: '3600' },
    });

    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    // Re-delivery (Lambda retries) is harmless.
    expect(await handler(event)).toEqual({ batchItemFailures: [] });

    const reader = new ArchiveReader({ dynamodb: clients.dynamodb, tableName, mode: 'ALL' });
    const archived = await readAll(reader);
    expect(archived.sort(byKeyAndBytes)).toEqual([...sent].sort(byKeyAndBytes));
    const one = await reader.get('key-3');
    const expireAfter = one?.expireAfter?.getTime() ?? 0;
    expect(expireAfter).toBeGreaterThan(Date.now() + 3_500_000);
    expect(expireAfter).toBeLessThan(Date.now() + 3_700_000);
  });

  it('takes mode and TTL from the stream tags and writes the conventional LATEST table', async () => {
    const tags = { StreamArchiveMode: 'latest', ArchiveTTL: 'expireSeconds=600' };
    const { streamName, sent, event } = await streamWithRecords(clients.kinesis, 100, 10, tags);
    const tableName = archiveTableName(streamName, 'LATEST');
    await createArchiveTable(clients.dynamodb, { tableName, mode: 'LATEST' });
    const handler = createHandler({ dynamodb: clients.dynamodb, kinesis: clients.kinesis, env: {} });

    expect(await handler(event)).toEqual({ batchItemFailures: [] });

    const reader = new ArchiveReader({ dynamodb: clients.dynamodb, tableName, mode: 'LATEST' });
    const archived = await readAll(reader);
    expect(archived).toHaveLength(10);
    const latest = new Map(sent.map((r) => [r.partitionKey, r.data]));
    for (const record of archived) expect(record.data).toEqual(latest.get(record.partitionKey));
    const expireAfter = (await reader.get('key-0'))?.expireAfter?.getTime() ?? 0;
    expect(Math.abs(expireAfter - (Date.now() + 600_000))).toBeLessThan(60_000);
  });

  it('returns the first record of each shard as a batch item failure when the table is missing', async () => {
    const { event } = await streamWithRecords(clients.kinesis, 40, 8);
    const handler = createHandler({
      dynamodb: clients.dynamodb,
      env: { ARCHIVE_TABLE: uniqueName('missing'), ARCHIVE_MODE: 'ALL' },
    });

    const response = await handler(event);

    const firstPerShard = new Map<string, string>();
    for (const r of event.Records) {
      const shard = r.eventID.slice(0, r.eventID.lastIndexOf(':'));
      if (!firstPerShard.has(shard)) firstPerShard.set(shard, r.kinesis.sequenceNumber);
    }
    expect(firstPerShard.size).toBe(2);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [...firstPerShard.values()].sort(),
    );
  });

  it('rejects an unusable environment before archiving anything', () => {
    expect(() => createHandler({ dynamodb: clients.dynamodb, env: { ARCHIVE_MODE: 'sometimes' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARCHIVER_CONFIG' }),
    );
  });
});
