import {
  type DeaggregatedRecord,
  deaggregate,
  isPartitionKeyTooLong,
  MAX_PARTITION_KEY_LENGTH,
} from '@kinesis-archive/agg';
import { encodeSequenceKey, InvalidSequenceNumberError, isSequenceNumber } from '@kinesis-archive/core';
import { CHUNK_KEY_PREFIX } from './chunking.js';
import { ArchiveRecordTooLargeError, InvalidArchiveRecordError } from './errors.js';
import { type QuarantinePayload, RESERVED_QUARANTINE_PREFIX, rawPayloadOf } from './quarantine-codec.js';
import type { ArchiveInput, WriteFailure } from './types.js';

/** A record that failed normalization, with what the quarantine keeps of it. */
export interface NormalizeFailure extends WriteFailure {
  payload: QuarantinePayload;
}

/** The largest record Kinesis accepts by default (data + partition key), 1 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;

/** A user record ready to be archived. */
export interface NormalizedRecord {
  /** Position of the outer record in the input. */
  index: number;
  partitionKey: string;
  sequenceNumber: string;
  subSequenceNumber: number;
  /** `encodeSequenceKey(sequenceNumber, subSequenceNumber)`. */
  sequenceKey: string;
  data: Uint8Array;
  arrival: Date | undefined;
  shardId: string | undefined;
  explicitHashKey: string | undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null;
}

/** Checks the outer shape; returns the outer sequence number, or a reason the input is not a record. */
function inspect(input: unknown): { sequenceNumber: unknown; problem?: string; deaggregated?: boolean } {
  if (!isObject(input)) return { sequenceNumber: undefined, problem: 'not an object' };
  if ('kinesis' in input) {
    const k = input.kinesis;
    if (!isObject(k)) return { sequenceNumber: undefined, problem: 'the `kinesis` payload is not an object' };
    if (typeof k.partitionKey !== 'string')
      return { sequenceNumber: k.sequenceNumber, problem: 'no partitionKey' };
    if (typeof k.data !== 'string')
      return { sequenceNumber: k.sequenceNumber, problem: 'data is not a string' };
    if (!BASE64.test(k.data))
      return { sequenceNumber: k.sequenceNumber, problem: 'data is not valid base64' };
    return { sequenceNumber: k.sequenceNumber };
  }
  if (typeof input.subSequenceNumber === 'number' && typeof input.aggregated === 'boolean') {
    if (!(input.data instanceof Uint8Array)) {
      return { sequenceNumber: input.sequenceNumber, problem: 'data is not a Uint8Array' };
    }
    return { sequenceNumber: input.sequenceNumber, deaggregated: true };
  }
  if ('Data' in input || 'PartitionKey' in input || 'SequenceNumber' in input) {
    if (!(input.Data instanceof Uint8Array)) {
      return { sequenceNumber: input.SequenceNumber, problem: 'Data is not a Uint8Array' };
    }
    if (typeof input.PartitionKey !== 'string') {
      return { sequenceNumber: input.SequenceNumber, problem: 'no PartitionKey' };
    }
    return { sequenceNumber: input.SequenceNumber };
  }
  if (!(input.data instanceof Uint8Array)) {
    return { sequenceNumber: input.sequenceNumber, problem: 'not a Kinesis record (no data)' };
  }
  if (typeof input.partitionKey !== 'string')
    return { sequenceNumber: input.sequenceNumber, problem: 'no partitionKey' };
  return { sequenceNumber: input.sequenceNumber };
}

/** The `eventSourceARN` of a Lambda event record. */
function eventSourceOf(input: unknown): string | undefined {
  const arn = isObject(input) ? input.eventSourceARN : undefined;
  return typeof arn === 'string' ? arn : undefined;
}

function toDate(value: unknown): Date | undefined {
  const date = typeof value === 'number' ? new Date(value * 1000) : value;
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/**
 * Validates and deaggregates the writer's input. Every input record ends up either in `records` (one entry per
 * user record) or in `failed`: nothing is dropped.
 */
export function normalizeRecords(
  inputs: readonly ArchiveInput[],
  options: { shardId?: string | undefined; maxRecordBytes: number },
): { records: NormalizedRecord[]; failed: NormalizeFailure[] } {
  const records: NormalizedRecord[] = [];
  const failed: NormalizeFailure[] = [];
  inputs.forEach((input, index) => {
    const outer = inspect(input);
    const seq = typeof outer.sequenceNumber === 'string' ? outer.sequenceNumber : undefined;
    if (outer.problem) {
      failed.push({
        sequenceNumber: seq,
        index,
        error: new InvalidArchiveRecordError(index, outer.problem),
        payload: rawPayloadOf(input, options.shardId),
      });
      return;
    }
    if (!isSequenceNumber(outer.sequenceNumber)) {
      failed.push({
        sequenceNumber: seq,
        index,
        error: new InvalidSequenceNumberError(outer.sequenceNumber),
        payload: rawPayloadOf(input, options.shardId),
      });
      return;
    }
    let users: DeaggregatedRecord[];
    try {
      users = outer.deaggregated
        ? [input as DeaggregatedRecord]
        : deaggregate(input, { shardId: options.shardId, onInvalid: 'passthrough' });
    } catch (error) {
      const reason = `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
      failed.push({
        sequenceNumber: seq,
        index,
        error: new InvalidArchiveRecordError(index, reason),
        payload: rawPayloadOf(input, options.shardId),
      });
      return;
    }
    for (const user of users) {
      const problem = checkUser(user, index, options.maxRecordBytes);
      const sub = user.subSequenceNumber;
      if (problem) {
        failed.push({
          sequenceNumber: seq,
          subSequenceNumber: sub,
          partitionKey: user.partitionKey,
          index,
          error: problem,
          payload: {
            kind: 'data',
            data: user.data,
            partitionKey: typeof user.partitionKey === 'string' ? user.partitionKey : undefined,
            sequenceNumber: seq,
            subSequenceNumber: Number.isInteger(sub) ? sub : undefined,
            aggregated: user.aggregated === true,
            shardId: user.shardId ?? options.shardId,
            explicitHashKey: user.explicitHashKey,
            arrival: toDate(user.approximateArrivalTimestamp),
            eventSourceARN: eventSourceOf(input),
          },
        });
        continue;
      }
      records.push({
        index,
        partitionKey: user.partitionKey,
        sequenceNumber: outer.sequenceNumber,
        subSequenceNumber: sub,
        sequenceKey: encodeSequenceKey(outer.sequenceNumber, sub),
        data: user.data,
        arrival: toDate(user.approximateArrivalTimestamp),
        shardId: user.shardId ?? options.shardId,
        explicitHashKey: user.explicitHashKey,
      });
    }
  });
  return { records, failed };
}

function checkUser(
  user: DeaggregatedRecord,
  index: number,
  maxRecordBytes: number,
): InvalidArchiveRecordError | ArchiveRecordTooLargeError | undefined {
  const pk = user.partitionKey;
  if (typeof pk !== 'string' || pk.length === 0) {
    return new InvalidArchiveRecordError(index, 'empty partition key', { partitionKey: pk });
  }
  // Kinesis accepts 1..256 characters; a foreign aggregate can hold longer keys, which DynamoDB may refuse for the
  // whole BatchWriteItem call, failing the records written with it.
  if (isPartitionKeyTooLong(pk)) {
    return new InvalidArchiveRecordError(
      index,
      `partition key longer than ${MAX_PARTITION_KEY_LENGTH} characters`,
      {
        partitionKey: pk,
      },
    );
  }
  if (pk.startsWith(CHUNK_KEY_PREFIX)) {
    return new InvalidArchiveRecordError(index, 'partition key starts with the reserved chunk prefix', {
      partitionKey: pk,
    });
  }
  if (pk.startsWith(RESERVED_QUARANTINE_PREFIX)) {
    return new InvalidArchiveRecordError(index, 'partition key starts with the reserved quarantine prefix', {
      partitionKey: pk,
    });
  }
  if (
    !Number.isInteger(user.subSequenceNumber) ||
    user.subSequenceNumber < 0 ||
    user.subSequenceNumber > 4_294_967_295
  ) {
    return new InvalidArchiveRecordError(index, `invalid subSequenceNumber ${user.subSequenceNumber}`);
  }
  const size = user.data.byteLength + Buffer.byteLength(pk, 'utf8');
  if (size > maxRecordBytes) {
    return new ArchiveRecordTooLargeError(size, maxRecordBytes, { index, partitionKey: pk });
  }
  return undefined;
}
