import { describe, expect, it } from 'vitest';
import {
  type ChangeRecord,
  type DataLossInfo,
  DynamoDBStream,
  ListenerError,
  ShardReadError,
} from '../src/index.js';
import { awsError, FakeStreams, makeRecord } from './fake-streams.js';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x';
const img = (id: string, v: number) => ({ id: { S: id }, v: { N: String(v) } });

function setup(fake: FakeStreams) {
  const stream = new DynamoDBStream({ client: fake, streamArn: ARN, retry: { baseDelayMs: 1 } });
  const seen: ChangeRecord[] = [];
  const errors: Error[] = [];
  const losses: DataLossInfo[] = [];
  stream.on('record', (r) => {
    seen.push(r);
  });
  stream.on('error', (e) => {
    errors.push(e);
  });
  stream.on('data loss', (info) => {
    losses.push(info);
  });
  return { stream, seen, errors, losses };
}

function fill(fake: FakeStreams, shardId: string, n: number, prefix = 'k'): void {
  for (let i = 1; i <= n; i++)
    fake.put(shardId, makeRecord('INSERT', `${prefix}${i}`, img(`${prefix}${i}`, i)));
}

describe('per-shard errors', () => {
  it('reports trimmed data with what is known, then goes on from the oldest record left', async () => {
    const fake = new FakeStreams();
    const shard = fake.addShard('s');
    fill(fake, 's', 10);
    const { stream, seen, losses } = setup(fake);
    await stream.fetchStreamState();
    expect(seen).toHaveLength(10);
    const last = stream.getShardState().s!.sequenceNumber;
    fill(fake, 's', 10, 'n');
    shard.trimmedBefore = 14; // k1..k10 and n1..n4 expired before the consumer came back
    const restarted = setup(fake);
    restarted.stream.setShardState(stream.getShardState());
    await restarted.stream.fetchStreamState();
    expect(restarted.losses).toEqual([
      expect.objectContaining({ shardId: 's', reason: 'trimmed', lastSequenceNumber: last }),
    ]);
    expect(restarted.seen.map((r) => r.keys.id)).toEqual(['n5', 'n6', 'n7', 'n8', 'n9', 'n10']);
    // Once past the trimmed point it resumes normally.
    fill(fake, 's', 2, 'm');
    await restarted.stream.fetchStreamState();
    expect(restarted.seen.map((r) => r.keys.id).slice(-2)).toEqual(['m1', 'm2']);
    expect(restarted.losses).toHaveLength(1);
    expect(losses).toHaveLength(0);
  });

  it('reports trimmed data met by GetRecords (an old iterator)', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 3);
    const { stream, seen, losses } = setup(fake);
    fake.fail('GetRecords', awsError('TrimmedDataAccessException'));
    await stream.fetchStreamState();
    expect(losses).toEqual([expect.objectContaining({ shardId: 's', reason: 'trimmed' })]);
    expect(seen).toHaveLength(3);
  });

  it('retires a vanished shard with events and keeps reading the others', async () => {
    const fake = new FakeStreams();
    const a = fake.addShard('a');
    fake.addShard('b');
    fill(fake, 'a', 2, 'a');
    fill(fake, 'b', 2, 'b');
    const { stream, seen, losses, errors } = setup(fake);
    const removed: string[][] = [];
    stream.on('remove shards', (ids) => removed.push(ids));
    await stream.fetchStreamState();
    // 'a' disappears between polls (not listed, reads fail).
    a.exists = false;
    fill(fake, 'b', 1, 'late');
    await stream.fetchStreamState();
    expect(losses).toEqual([expect.objectContaining({ shardId: 'a', reason: 'shard-vanished' })]);
    expect(removed).toEqual([['a']]);
    expect(stream.getShardState().a).toMatchObject({ retired: true });
    await stream.fetchStreamState();
    expect(stream.getShardState().a).toBeUndefined(); // forgotten once retired and unlisted
    expect(removed).toHaveLength(1);
    expect(seen.map((r) => r.keys.id)).toContain('late1');
    expect(errors).toEqual([]);
  });

  it('retires a shard whose reads fail with ResourceNotFoundException while still listed', async () => {
    const fake = new FakeStreams();
    fake.addShard('a');
    fill(fake, 'a', 1);
    const { stream, losses } = setup(fake);
    fake.fail('GetShardIterator', awsError('ResourceNotFoundException'));
    await stream.fetchStreamState();
    expect(losses).toEqual([expect.objectContaining({ shardId: 'a', reason: 'shard-vanished' })]);
    expect(stream.getShardState().a?.retired).toBe(true);
  });

  it('stops a shard at the record whose listener threw and delivers it again next poll', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 5);
    const { stream, errors } = setup(fake);
    const handled: string[] = [];
    let failOnce = true;
    stream.on('insert record', (image) => {
      if (image?.id === 'k3' && failOnce) {
        failOnce = false;
        throw new Error('boom');
      }
      handled.push(String(image?.id));
    });
    await stream.fetchStreamState();
    expect(handled).toEqual(['k1', 'k2']);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect((errors[0] as ListenerError).details).toMatchObject({ shardId: 's', event: 'insert record' });
    expect(stream.getShardState().s!.sequenceNumber).toBe(
      fake.shards.get('s')!.records[1]!.dynamodb!.SequenceNumber,
    );
    await stream.fetchStreamState();
    expect(handled).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it('waits for async listeners and redelivers after a rejection', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 2);
    const { stream, errors } = setup(fake);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    stream.on('record', async () => {
      calls++;
      if (calls === 1) await gate;
      if (calls === 2) throw new Error('async failure');
    });
    const poll = stream.fetchStreamState();
    await new Promise((r) => setTimeout(r, 20));
    expect(stream.getShardState().s?.sequenceNumber).toBeUndefined();
    release();
    await poll;
    expect(errors).toHaveLength(1);
    expect(stream.getShardState().s!.sequenceNumber).toBe(
      fake.shards.get('s')!.records[0]!.dynamodb!.SequenceNumber,
    );
    await stream.fetchStreamState();
    expect(calls).toBe(3);
    expect(stream.getShardState().s!.sequenceNumber).toBe(
      fake.shards.get('s')!.records[1]!.dynamodb!.SequenceNumber,
    );
  });

  it('keeps reading the other shards when one fails, and retries the failed one next poll', async () => {
    const fake = new FakeStreams();
    fake.addShard('good');
    fake.addShard('bad');
    fill(fake, 'good', 3, 'g');
    fill(fake, 'bad', 3, 'b');
    fake.fail('GetShardIterator', awsError('ValidationException', 'nope'));
    const { stream, seen, errors } = setup(fake);
    await stream.fetchStreamState();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ShardReadError);
    expect(seen).toHaveLength(3);
    await stream.fetchStreamState();
    expect(seen).toHaveLength(6);
  });

  it('backs off and retries throttled calls, losing nothing', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 4);
    const throttle = () => awsError('ProvisionedThroughputExceededException');
    fake.fail('DescribeStream', throttle(), throttle());
    fake.fail('GetShardIterator', throttle());
    fake.fail('GetRecords', throttle(), awsError('LimitExceededException'));
    const { stream, seen, errors } = setup(fake);
    await stream.fetchStreamState();
    expect(errors).toEqual([]);
    expect(seen).toHaveLength(4);
    expect(fake.count('GetRecords')).toBe(3);
  });

  it('reports exhausted throttling retries as an error event, not a crash', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 1);
    const stream = new DynamoDBStream({
      client: fake,
      streamArn: ARN,
      retry: { baseDelayMs: 1, maxAttempts: 2 },
    });
    const errors: Error[] = [];
    stream.on('error', (e) => errors.push(e));
    fake.fail('GetRecords', ...Array.from({ length: 2 }, () => awsError('ThrottlingException')));
    await stream.fetchStreamState();
    expect(errors).toHaveLength(1);
    expect((errors[0] as ShardReadError).code).toBe('SHARD_READ_FAILED');
    expect(stream.getShardState().s?.sequenceNumber).toBeUndefined();
  });

  it('re-opens an expired iterator after the last processed record', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 2);
    const { stream, seen } = setup(fake);
    await stream.fetchStreamState();
    fill(fake, 's', 2, 'n');
    fake.fail('GetRecords', awsError('ExpiredIteratorException'));
    await stream.fetchStreamState();
    expect(seen.map((r) => r.keys.id)).toEqual(['k1', 'k2', 'n1', 'n2']);
    expect(fake.count('GetShardIterator:AFTER_SEQUENCE_NUMBER', 's')).toBe(1);
  });

  it('re-opens an expired, unread LATEST bookmark at TRIM_HORIZON: repeats, never loses', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 2);
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN, startingPosition: 'LATEST' });
    const seen: string[] = [];
    stream.on('record', (r) => {
      seen.push(String(r.keys.id));
    });
    await stream.bookmark();
    fill(fake, 's', 2, 'n'); // written after the bookmark, while its iterator expires unread
    fake.fail('GetRecords', awsError('ExpiredIteratorException'));
    await stream.fetchStreamState();
    expect(seen).toEqual(['k1', 'k2', 'n1', 'n2']);
    expect(fake.count('GetShardIterator:TRIM_HORIZON', 's')).toBe(1);
  });

  it('shares one poll between concurrent fetchStreamState calls', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 2);
    const { stream, seen } = setup(fake);
    await Promise.all([stream.fetchStreamState(), stream.fetchStreamState(), stream.fetchStreamState()]);
    expect(fake.count('DescribeStream')).toBe(1);
    expect(seen).toHaveLength(2);
  });

  it('emits a process warning instead of throwing when there is no error listener', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fill(fake, 's', 1);
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN, retry: { maxAttempts: 1 } });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    fake.fail('DescribeStream', awsError('AccessDeniedException'));
    await expect(stream.fetchStreamState()).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, 10));
    process.off('warning', onWarning);
    expect(warnings.some((w) => (w as { code?: string }).code === 'DESCRIBE_STREAM_FAILED')).toBe(true);
  });
});
