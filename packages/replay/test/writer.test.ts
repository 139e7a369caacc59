import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  InvalidEnvelopeError,
  InvalidReplayOptionError,
  KinesisWriter,
  unwrapEnvelope,
  WriterClosedError,
  wrapEnvelope,
} from '../src/index.js';
import { createStream, expectSameContent, makeRecords, readStream } from './helpers.js';

const { clients } = localAws();
const kinesis = clients.kinesis;
afterAll(() => clients.destroy());

describe('KinesisWriter', () => {
  it('batches by bytes with exact accounting, partition keys included, and reports what it sent', async () => {
    const streamName = await createStream(kinesis, 1);
    const sent: string[] = [];
    // Each record is 990 data bytes + a 10-byte key = 1,000 bytes: 4 fit in 4,999 bytes (5 would if keys were
    // not counted). The same accounting applies to the default 5 MiB limit.
    const writer = new KinesisWriter({
      kinesis,
      streamName,
      maxBatchBytes: 4_999,
      maxRecordBytes: 1_000,
      onSent: (r) => sent.push(r.partitionKey),
    });
    const records = Array.from({ length: 20 }, (_, i) => ({
      partitionKey: `key-${String(i).padStart(6, '0')}`,
      data: Buffer.alloc(990, i),
    }));
    for (const r of records) await writer.put(r);
    const stats = await writer.close();
    expect(stats.failed).toEqual([]);
    expect(stats.sent).toBe(20);
    expect(stats.requests).toBe(5);
    expect(sent).toHaveLength(20);
    expectSameContent(records, await readStream(kinesis, streamName));
  });

  it('rejects put after close, and invalid options, with typed errors', async () => {
    const streamName = await createStream(kinesis, 1);
    const writer = new KinesisWriter({ kinesis, streamName });
    await writer.put({ partitionKey: 'a', data: 'x' });
    await writer.close();
    await expect(writer.put({ partitionKey: 'a', data: 'y' })).rejects.toBeInstanceOf(WriterClosedError);
    expect(() => new KinesisWriter({ kinesis })).toThrow(InvalidReplayOptionError);
    expect(() => new KinesisWriter({ kinesis, streamName, maxBatchRecords: 501 })).toThrow(
      InvalidReplayOptionError,
    );
    expect(() => new KinesisWriter({ kinesis, streamName, concurrency: 0 })).toThrow(/concurrency/);
  });

  it('on abort, sends nothing more and lists the buffered records as unsent', async () => {
    const streamName = await createStream(kinesis, 1);
    const controller = new AbortController();
    const writer = new KinesisWriter({ kinesis, streamName, signal: controller.signal, lingerMs: 10_000 });
    const records = makeRecords(30, 5);
    for (const r of records) await writer.put(r);
    controller.abort();
    const stats = await writer.close();
    expect(stats.sent).toBe(0);
    expect(stats.unsent).toEqual(records);
    await expect(writer.put(records[0]!)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await readStream(kinesis, streamName)).toHaveLength(0);
  });
});

describe('envelope', () => {
  it('round-trips any bytes and the metadata', () => {
    const data = Uint8Array.from({ length: 256 }, (_, i) => i);
    const bytes = wrapEnvelope({ partitionKey: 'k', data, sequenceNumber: '42', explicitHashKey: '7' }, data);
    const { envelope, data: back } = unwrapEnvelope(bytes);
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    expect(envelope).toMatchObject({ kinesisArchiveEnvelope: 1, partitionKey: 'k', sequenceNumber: '42' });
  });

  it('rejects bytes that are not an envelope', () => {
    expect(() => unwrapEnvelope(Buffer.from('not json'))).toThrow(InvalidEnvelopeError);
    expect(() => unwrapEnvelope(Buffer.from('{"a":1}'))).toThrow(/kinesisArchiveEnvelope/);
    expect(() =>
      unwrapEnvelope(Buffer.from('{"kinesisArchiveEnvelope":1,"partitionKey":3,"data":""}')),
    ).toThrow(/must be strings/);
  });
});
