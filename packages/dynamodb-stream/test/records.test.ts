import { describe, expect, it } from 'vitest';
import {
  type ChangeRecord,
  DynamoDBStream,
  InMemoryCheckpointStore,
  InvalidShardStateError,
  parseShardState,
  RecordDecodeError,
} from '../src/index.js';
import { FakeStreams, makeRecord } from './fake-streams.js';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x';

async function readAll(
  fake: FakeStreams,
  unmarshall?: ConstructorParameters<typeof DynamoDBStream>[0]['unmarshall'],
) {
  const stream = new DynamoDBStream({
    client: fake,
    streamArn: ARN,
    ...(unmarshall !== undefined ? { unmarshall } : {}),
  });
  const seen: ChangeRecord[] = [];
  const removes: unknown[][] = [];
  const errors: Error[] = [];
  stream.on('record', (r) => {
    seen.push(r);
  });
  stream.on('remove record', (...args) => {
    removes.push(args);
  });
  stream.on('error', (e) => {
    errors.push(e);
  });
  await stream.fetchStreamState();
  return { stream, seen, removes, errors };
}

describe('decoding records', () => {
  it("turns DynamoDB Local's unknown TTL event name into a TTL remove", async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('UNKNOWN_TO_SDK_VERSION', 'a', undefined, { id: { S: 'a' }, exp: { N: '1' } }));
    const { seen, removes } = await readAll(fake);
    expect(seen[0]).toMatchObject({
      eventName: 'REMOVE',
      ttlDelete: true,
      rawEventName: 'UNKNOWN_TO_SDK_VERSION',
    });
    expect(removes).toEqual([[{ id: 'a', exp: 1 }, { id: 'a' }, seen[0]]]);
  });

  it('recognises AWS TTL deletes by their service identity, and user deletes as not TTL', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    const ttl = { userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' } };
    fake.put('s', makeRecord('REMOVE', 'a', undefined, { id: { S: 'a' } }, ttl));
    fake.put('s', makeRecord('REMOVE', 'b', undefined, { id: { S: 'b' } }));
    const { seen } = await readAll(fake);
    expect(seen.map((r) => [r.eventName, r.ttlDelete])).toEqual([
      ['REMOVE', true],
      ['REMOVE', false],
    ]);
    expect(seen[0]!.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
  });

  it('keeps an unknown event name that carries a new image as an insert or modify, not dropped', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('SOMETHING_NEW', 'a', { id: { S: 'a' } }));
    fake.put('s', makeRecord('SOMETHING_NEW', 'a', { id: { S: 'a' } }, { id: { S: 'a' } }));
    const { seen } = await readAll(fake);
    expect(seen.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY']);
  });

  it('gives raw images with unmarshall: false', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'a', { id: { S: 'a' }, n: { N: '5' } }));
    const { seen } = await readAll(fake, false);
    expect(seen[0]!.newImage).toEqual({ id: { S: 'a' }, n: { N: '5' } });
    expect(seen[0]!.keys).toEqual({ id: { S: 'a' } });
  });

  it('stops at a record it cannot unmarshall, reports it, and never skips it', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'ok', { id: { S: 'ok' } }));
    // An attribute type this SDK version cannot decode (a future type would look like this).
    fake.put('s', makeRecord('INSERT', 'big', { id: { S: 'big' }, n: { $unknown: ['Q', 1] } as never }));
    fake.put('s', makeRecord('INSERT', 'after', { id: { S: 'after' } }));
    const { stream, seen, errors } = await readAll(fake);
    expect(seen.map((r) => r.keys.id)).toEqual(['ok']);
    expect(errors[0]).toBeInstanceOf(RecordDecodeError);
    await stream.fetchStreamState();
    expect(seen.map((r) => r.keys.id)).toEqual(['ok']); // still stuck there, not skipped
    const raw = await readAll(fake, false);
    expect(raw.seen.map((r) => r.keys.id)).toEqual([{ S: 'ok' }, { S: 'big' }, { S: 'after' }]);
  });

  it('stops at a record without a valid sequence number', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    const bad = makeRecord('INSERT', 'x', { id: { S: 'x' } });
    bad.dynamodb!.SequenceNumber = 'not-a-number';
    fake.put('s', bad);
    const { seen, errors } = await readAll(fake);
    expect(seen).toEqual([]);
    expect(errors[0]).toBeInstanceOf(RecordDecodeError);
  });
});

describe('shard state', () => {
  it('rejects iterator-based and malformed states with a typed error', () => {
    const fake = new FakeStreams();
    const stream = new DynamoDBStream({ client: fake, streamArn: ARN });
    expect(() => stream.setShardState({ s: { shardIterator: 'abc' } } as never)).toThrow(
      InvalidShardStateError,
    );
    expect(() => parseShardState({ s: { sequenceNumber: '12a' } })).toThrow(InvalidShardStateError);
    expect(() => parseShardState({ s: { sequenceNumber: 5 } })).toThrow(InvalidShardStateError);
    expect(() => parseShardState({ s: { sequenceNumber: '' } })).toThrow(InvalidShardStateError);
    expect(parseShardState({ s: { sequenceNumber: '000123' } })).toEqual({ s: { sequenceNumber: '000123' } });
    expect(() => parseShardState({ s: { retired: 'yes' } })).toThrow(InvalidShardStateError);
    expect(() => parseShardState([])).toThrow(InvalidShardStateError);
    expect(() => parseShardState(null)).toThrow(InvalidShardStateError);
    expect(() => new DynamoDBStream({ client: fake, streamArn: ARN, shardState: { s: 1 } as never })).toThrow(
      InvalidShardStateError,
    );
  });

  it('round-trips through JSON and hands out copies', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'a', { id: { S: 'a' } }));
    const { stream } = await readAll(fake);
    const state = stream.getShardState();
    expect(parseShardState(JSON.parse(JSON.stringify(state)))).toEqual(state);
    state.s!.sequenceNumber = '1';
    expect(stream.getShardState().s!.sequenceNumber).not.toBe('1');
  });

  it('resumes AFTER_SEQUENCE_NUMBER from a saved state, however old', async () => {
    const fake = new FakeStreams();
    fake.addShard('s');
    fake.put('s', makeRecord('INSERT', 'a', { id: { S: 'a' } }));
    const first = await readAll(fake);
    fake.put('s', makeRecord('INSERT', 'b', { id: { S: 'b' } }));
    const store = new InMemoryCheckpointStore(first.stream.getShardState());
    const second = new DynamoDBStream({ client: fake, streamArn: ARN, checkpointStore: store });
    const ids: unknown[] = [];
    second.on('record', (r) => {
      ids.push(r.keys.id);
    });
    await second.fetchStreamState();
    expect(ids).toEqual(['b']);
    expect(fake.count('GetShardIterator:AFTER_SEQUENCE_NUMBER', 's')).toBe(1);
    expect(store.saves).toBe(1);
  });
});
