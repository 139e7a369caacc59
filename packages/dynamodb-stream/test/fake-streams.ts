// An in-memory DynamoDB Streams fake for the cases DynamoDB Local cannot produce (it has one shard that never
// splits, never trims and never vanishes). Test-only: it implements `send` for the three read operations.
import {
  type _Record,
  type AttributeValue,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';

export interface FakeShard {
  shardId: string;
  parentShardId?: string;
  records: _Record[];
  closed: boolean;
  /** Index of the oldest record still readable (records before it are trimmed). */
  trimmedBefore: number;
  /** Listed by DescribeStream; reading it fails with ResourceNotFoundException when false. */
  exists: boolean;
}

export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

let sequence = 10n ** 20n;
export function nextSequenceNumber(): string {
  sequence += 1n;
  return sequence.toString();
}

export function makeRecord(
  eventName: string,
  id: string,
  newImage?: Record<string, AttributeValue>,
  oldImage?: Record<string, AttributeValue>,
  extra: Partial<_Record> = {},
): _Record {
  return {
    eventID: `e-${id}-${sequence}`,
    eventName: eventName as _Record['eventName'],
    dynamodb: {
      Keys: { id: { S: id } },
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SequenceNumber: nextSequenceNumber(),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...extra,
  };
}

interface IteratorPosition {
  shardId: string;
  pos: number;
}

export class FakeStreams {
  readonly shards = new Map<string, FakeShard>();
  readonly calls: { op: string; shardId?: string }[] = [];
  /** Errors thrown by the next calls of an operation (first in, first out). */
  readonly failures = new Map<string, Error[]>();
  /** Shards per DescribeStream page (AWS: 100). */
  pageSize = 100;
  /** Largest GetRecords page. */
  recordsPerCall = 1000;
  /** The `StreamStatus` DescribeStream answers. */
  status: 'ENABLING' | 'ENABLED' | 'DISABLING' | 'DISABLED' = 'ENABLED';
  private iterators = new Map<string, IteratorPosition>();
  private counter = 0;

  addShard(shardId: string, options: Partial<FakeShard> = {}): FakeShard {
    const shard: FakeShard = {
      shardId,
      records: [],
      closed: false,
      trimmedBefore: 0,
      exists: true,
      ...options,
    };
    this.shards.set(shardId, shard);
    return shard;
  }

  put(shardId: string, record: _Record): _Record {
    this.shards.get(shardId)!.records.push(record);
    return record;
  }

  fail(op: string, ...errors: Error[]): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), ...errors]);
  }

  count(op: string, shardId?: string): number {
    return this.calls.filter((c) => c.op === op && (shardId === undefined || c.shardId === shardId)).length;
  }

  async send(command: unknown): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof DescribeStreamCommand) return this.describe(command);
    if (command instanceof GetShardIteratorCommand) return this.getIterator(command);
    if (command instanceof GetRecordsCommand) return this.getRecords(command);
    throw new Error('unsupported command');
  }

  private injected(op: string): void {
    const queue = this.failures.get(op);
    const error = queue?.shift();
    if (error) throw error;
  }

  private describe(command: DescribeStreamCommand) {
    this.calls.push({ op: 'DescribeStream' });
    this.injected('DescribeStream');
    const listed = [...this.shards.values()].filter((s) => s.exists);
    const start = command.input.ExclusiveStartShardId;
    const from = start ? listed.findIndex((s) => s.shardId === start) + 1 : 0;
    const page = listed.slice(from, from + this.pageSize);
    const more = from + this.pageSize < listed.length;
    return {
      StreamDescription: {
        StreamStatus: this.status,
        Shards: page.map((s) => ({
          ShardId: s.shardId,
          ...(s.parentShardId ? { ParentShardId: s.parentShardId } : {}),
          SequenceNumberRange: {
            StartingSequenceNumber: s.records[0]?.dynamodb?.SequenceNumber ?? '1',
            ...(s.closed ? { EndingSequenceNumber: s.records.at(-1)?.dynamodb?.SequenceNumber ?? '1' } : {}),
          },
        })),
        ...(more ? { LastEvaluatedShardId: page.at(-1)!.shardId } : {}),
      },
    };
  }

  private shard(shardId: string | undefined): FakeShard {
    const shard = shardId ? this.shards.get(shardId) : undefined;
    if (!shard?.exists) throw awsError('ResourceNotFoundException');
    return shard;
  }

  private token(shardId: string, pos: number): string {
    const token = `${shardId}|${pos}|${++this.counter}`;
    this.iterators.set(token, { shardId, pos });
    return token;
  }

  private getIterator(command: GetShardIteratorCommand) {
    const { ShardId, ShardIteratorType, SequenceNumber } = command.input;
    this.calls.push({ op: `GetShardIterator:${ShardIteratorType}`, shardId: ShardId });
    this.calls.push({ op: 'GetShardIterator', shardId: ShardId });
    this.injected('GetShardIterator');
    const shard = this.shard(ShardId);
    let pos = shard.trimmedBefore;
    if (ShardIteratorType === 'LATEST') pos = shard.records.length;
    if (ShardIteratorType === 'AFTER_SEQUENCE_NUMBER') {
      const index = shard.records.findIndex((r) => r.dynamodb?.SequenceNumber === SequenceNumber);
      if (index < 0) throw awsError('ValidationException', 'unknown sequence number');
      if (index < shard.trimmedBefore - 1) throw awsError('TrimmedDataAccessException');
      pos = index + 1;
    }
    return { ShardIterator: this.token(shard.shardId, pos) };
  }

  private getRecords(command: GetRecordsCommand) {
    const position = this.iterators.get(command.input.ShardIterator ?? '');
    this.calls.push({ op: 'GetRecords', shardId: position?.shardId });
    this.injected('GetRecords');
    if (!position) throw awsError('ValidationException', 'bad iterator');
    const shard = this.shard(position.shardId);
    if (position.pos < shard.trimmedBefore) throw awsError('TrimmedDataAccessException');
    const limit = Math.min(command.input.Limit ?? 1000, this.recordsPerCall);
    const records = shard.records.slice(position.pos, position.pos + limit);
    const pos = position.pos + records.length;
    const atEnd = shard.closed && pos >= shard.records.length;
    return { Records: records, ...(atEnd ? {} : { NextShardIterator: this.token(shard.shardId, pos) }) };
  }
}
