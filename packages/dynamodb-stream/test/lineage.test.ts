import { describe, expect, it } from 'vitest';
import { type ChangeRecord, DynamoDBStream } from '../src/index.js';
import { FakeStreams, makeRecord } from './fake-streams.js';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x';
const img = (id: string, v: number) => ({ id: { S: id }, v: { N: String(v) } });

function consumer(fake: FakeStreams, extra: Partial<ConstructorParameters<typeof DynamoDBStream>[0]> = {}) {
  const stream = new DynamoDBStream({ client: fake, streamArn: ARN, retry: { baseDelayMs: 1 }, ...extra });
  const seen: ChangeRecord[] = [];
  const errors: Error[] = [];
  stream.on('record', (r) => {
    seen.push(r);
  });
  stream.on('error', (e) => {
    errors.push(e);
  });
  return { stream, seen, errors };
}

describe('shard lineage', () => {
  it('reads a split parent to its end before either child, then retires it once', async () => {
    const fake = new FakeStreams();
    fake.recordsPerCall = 2;
    fake.addShard('p', { closed: true });
    fake.addShard('c1', { parentShardId: 'p' });
    fake.addShard('c2', { parentShardId: 'p' });
    for (let v = 1; v <= 5; v++) fake.put('p', makeRecord('MODIFY', 'k', img('k', v)));
    for (let v = 6; v <= 8; v++) fake.put('c1', makeRecord('MODIFY', 'k', img('k', v)));
    fake.put('c2', makeRecord('INSERT', 'other', img('other', 1)));
    const { stream, seen, errors } = consumer(fake);
    const removed: string[][] = [];
    const added: string[][] = [];
    stream.on('remove shards', (ids) => removed.push(ids));
    stream.on('new shards', (ids) => added.push(ids));

    await stream.fetchStreamState();
    expect(seen.map((r) => r.newImage?.v)).toEqual([1, 2]);
    expect(fake.count('GetShardIterator', 'c1') + fake.count('GetShardIterator', 'c2')).toBe(0);
    await stream.fetchStreamState();
    await stream.fetchStreamState();
    // The parent's last page (5) and its end came in poll 3; the children are read in the same poll.
    for (let i = 0; i < 3; i++) await stream.fetchStreamState();

    const k = seen.filter((r) => r.keys.id === 'k').map((r) => r.newImage?.v);
    expect(k).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seen.filter((r) => r.keys.id === 'other')).toHaveLength(1);
    expect(removed).toEqual([['p']]);
    expect(added).toEqual([['p', 'c1', 'c2']]);
    // Retired, then dropped from the state once both children have progress (their reading proves it drained).
    expect(stream.getShardState().p).toBeUndefined();
    expect(stream.getShardState().c1?.sequenceNumber).toBe(
      fake.shards.get('c1')!.records[2]!.dynamodb!.SequenceNumber,
    );
    // A retired shard is never read again.
    const reads = fake.count('GetRecords', 'p');
    await stream.fetchStreamState();
    expect(fake.count('GetRecords', 'p')).toBe(reads);
    expect(errors).toEqual([]);
  });

  it('reads a child whose parent expired from the stream at once, from TRIM_HORIZON', async () => {
    const fake = new FakeStreams();
    fake.addShard('child', { parentShardId: 'gone-long-ago' });
    fake.put('child', makeRecord('INSERT', 'a', img('a', 1)));
    const { stream, seen } = consumer(fake, { startingPosition: 'TRIM_HORIZON' });
    await stream.fetchStreamState();
    expect(seen).toHaveLength(1);
    expect(fake.count('GetShardIterator:TRIM_HORIZON', 'child')).toBe(1);
  });

  it('starts new shards found after the first start at TRIM_HORIZON even with LATEST', async () => {
    const fake = new FakeStreams();
    fake.addShard('old', { closed: true });
    fake.put('old', makeRecord('INSERT', 'before', img('before', 1)));
    fake.addShard('open', { parentShardId: 'old' });
    fake.put('open', makeRecord('INSERT', 'before2', img('before2', 1)));
    const { stream, seen } = consumer(fake, { startingPosition: 'LATEST' });
    await stream.fetchStreamState();
    expect(seen).toHaveLength(0);
    expect(stream.getShardState().old?.retired).toBe(true);
    fake.put('open', makeRecord('INSERT', 'after', img('after', 1)));
    fake.shards.get('open')!.closed = true;
    fake.addShard('next', { parentShardId: 'open' });
    fake.put('next', makeRecord('INSERT', 'child', img('child', 1)));
    await stream.fetchStreamState();
    expect(seen.map((r) => r.keys.id)).toEqual(['after', 'child']);
    expect(fake.count('GetShardIterator:LATEST', 'open')).toBe(1);
    expect(fake.count('GetShardIterator:TRIM_HORIZON', 'next')).toBe(1);
  });

  it('with LATEST, a child listed before its parent shows as closed starts at TRIM_HORIZON once the parent is drained', async () => {
    const fake = new FakeStreams();
    // DescribeStream lists the child while the parent has no ending sequence number yet.
    fake.addShard('parent');
    fake.put('parent', makeRecord('INSERT', 'before', img('before', 1)));
    fake.addShard('child', { parentShardId: 'parent' });
    const { stream, seen, errors } = consumer(fake, { startingPosition: 'LATEST' });
    await stream.fetchStreamState();
    expect(seen).toHaveLength(0);
    fake.put('parent', makeRecord('MODIFY', 'k', img('k', 1)));
    fake.shards.get('parent')!.closed = true;
    fake.put('child', makeRecord('MODIFY', 'k', img('k', 2)));
    await stream.fetchStreamState();
    await stream.fetchStreamState();
    expect(seen.map((r) => `${String(r.keys.id)}=${String(r.newImage?.v)}`)).toEqual(['k=1', 'k=2']);
    expect(errors).toEqual([]);
  });

  it('pages DescribeStream past 100 shards with ExclusiveStartShardId', async () => {
    const fake = new FakeStreams();
    for (let i = 0; i < 250; i++) {
      const id = `shard-${String(i).padStart(4, '0')}`;
      fake.addShard(id);
      fake.put(id, makeRecord('INSERT', `item-${i}`, img(`item-${i}`, i)));
    }
    const { stream, seen } = consumer(fake);
    let added: string[] = [];
    stream.on('new shards', (ids) => {
      added = ids;
    });
    await stream.fetchStreamState();
    expect(fake.count('DescribeStream')).toBe(3);
    expect(added).toHaveLength(250);
    expect(new Set(seen.map((r) => r.keys.id)).size).toBe(250);
  });
});
