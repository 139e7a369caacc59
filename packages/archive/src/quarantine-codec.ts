import { createHash } from 'node:crypto';
import { encodeSequenceKey, isSequenceNumber, type KinesisArchiveError } from '@kinesis-archive/core';
import type { Item } from './item-codec.js';
import type { ArchiveMode } from './types.js';

/**
 * Partition keys starting with this are reserved for quarantine items (records given to `write` that can never be
 * archived). Records with such a key are themselves rejected, and quarantined under another key.
 */
export const RESERVED_QUARANTINE_PREFIX = '\u0000quarantine';
/** The partition key of every quarantine item in a table with a sort key (an ALL archive, a quarantine table). */
export const QUARANTINE_PARTITION_KEY = `${RESERVED_QUARANTINE_PREFIX}`;
/** The prefix of the partition key of each quarantine item in a LATEST archive (no sort key): then its id. */
export const QUARANTINE_KEY_PREFIX = `${RESERVED_QUARANTINE_PREFIX}\u0000`;

/** Codes of the failures that no retry can fix: the records are quarantined instead of retried. */
export const PERMANENT_FAILURE_CODES: ReadonlySet<string> = new Set([
  'INVALID_RECORD',
  'INVALID_SEQUENCE_NUMBER',
  'RECORD_TOO_LARGE',
  'INVALID_ARCHIVE_CONFIG',
]);

/** True for a failure that retrying cannot fix (a malformed, oversized or reserved record, a bad configuration). */
export function isPermanentFailure(error: KinesisArchiveError): boolean {
  return PERMANENT_FAILURE_CODES.has(error.code);
}

/**
 * What the quarantine keeps of a record: its bytes and its Kinesis metadata. `kind: 'data'`: `data` is the
 * record's data, byte-exact (for a KPL sub-record, its own data). `kind: 'raw'`: the input could not be read as a
 * record (no data, data that is not base64, not an object); `data` is the input as JSON text (for a Lambda event
 * record, the whole record, its base64 `data` string included).
 */
export interface QuarantinePayload {
  kind: 'data' | 'raw';
  data: Uint8Array;
  partitionKey?: string | undefined;
  sequenceNumber?: string | undefined;
  subSequenceNumber?: number | undefined;
  /** True when the record came out of a KPL aggregate. */
  aggregated?: boolean | undefined;
  shardId?: string | undefined;
  explicitHashKey?: string | undefined;
  arrival?: Date | undefined;
  eventSourceARN?: string | undefined;
}

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function dateOf(value: unknown): Date | undefined {
  const date = typeof value === 'number' ? new Date(value * 1000) : value;
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** JSON text of anything (binary as base64, bigints as strings); never throws. */
function toJson(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) =>
        v instanceof Uint8Array
          ? { base64: Buffer.from(v).toString('base64') }
          : typeof v === 'bigint'
            ? v.toString()
            : v,
      ) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

/** The quarantine payload of an input that failed before it could be read as user records. */
export function rawPayloadOf(input: unknown, shardId: string | undefined): QuarantinePayload {
  const o = isObject(input) ? input : {};
  const kinesis = isObject(o.kinesis) ? o.kinesis : undefined;
  const eventId = str(o.eventID);
  const common = {
    partitionKey: str(kinesis?.partitionKey) ?? str(o.PartitionKey) ?? str(o.partitionKey),
    sequenceNumber: str(kinesis?.sequenceNumber) ?? str(o.SequenceNumber) ?? str(o.sequenceNumber),
    shardId: str(o.shardId) ?? (eventId?.includes(':') ? eventId.slice(0, eventId.indexOf(':')) : shardId),
    explicitHashKey: str(o.explicitHashKey) ?? str(o.ExplicitHashKey),
    arrival: dateOf(
      kinesis?.approximateArrivalTimestamp ?? o.ApproximateArrivalTimestamp ?? o.approximateArrivalTimestamp,
    ),
    eventSourceARN: str(o.eventSourceARN),
  };
  // binary data that is only attached to a record with a problem elsewhere (a bad sequence number): keep it as is
  const data = kinesis ? undefined : (o.Data ?? o.data);
  if (data instanceof Uint8Array) return { kind: 'data', data, ...common };
  return { kind: 'raw', data: Buffer.from(toJson(input), 'utf8'), ...common };
}

/**
 * The id of a quarantined record: its position (sequence number and sub-sequence number; zeros when it has
 * none), its shard, and a digest of its bytes and key. The same record gets the same id, so quarantining it again
 * (a retry) overwrites its one entry.
 */
export function quarantineId(payload: QuarantinePayload): string {
  const seq = isSequenceNumber(payload.sequenceNumber) ? payload.sequenceNumber : '0';
  const hash = createHash('sha256')
    .update(payload.data)
    .update('\u0000')
    .update(payload.partitionKey ?? '')
    .update('\u0000')
    .update(payload.sequenceNumber ?? '')
    .digest('hex')
    .slice(0, 16);
  return `${encodeSequenceKey(seq, payload.subSequenceNumber ?? 0)}#${payload.shardId ?? ''}#${hash}`;
}

/** Where quarantine items go: the archive table (its mode) or a table with a sort key (`'ALL'`). */
export interface QuarantinePlace {
  tableName: string;
  mode: ArchiveMode;
}

/** The key attributes of the quarantine item with this id. */
export function quarantineKey(
  place: QuarantinePlace,
  id: string,
): { partitionKey: string; sequenceKey: string } {
  return place.mode === 'ALL'
    ? { partitionKey: QUARANTINE_PARTITION_KEY, sequenceKey: id }
    : { partitionKey: `${QUARANTINE_KEY_PREFIX}${id}`, sequenceKey: id };
}

/** The id of a quarantine item, from its key. */
export function idOfQuarantineItem(item: Item): string | undefined {
  const sk = item.sequenceKey?.S;
  if (sk !== undefined) return sk;
  const pk = item.partitionKey?.S;
  return pk?.startsWith(QUARANTINE_KEY_PREFIX) ? pk.slice(QUARANTINE_KEY_PREFIX.length) : undefined;
}

/** The metadata attributes of a quarantine item (the data and its chunk reference are added by the writer). */
export function quarantineAttributes(
  payload: QuarantinePayload,
  error: KinesisArchiveError,
  nowMs: number,
  expireAfter: number | undefined,
): Item {
  const item: Item = {
    quarantinedAt: { N: String(nowMs) },
    payloadKind: { S: payload.kind },
    errorCode: { S: error.code },
    errorMessage: { S: error.message.slice(0, 4000) },
  };
  if (payload.partitionKey !== undefined) item.recordPartitionKey = { S: payload.partitionKey };
  if (payload.sequenceNumber !== undefined) item.sequenceNumber = { S: payload.sequenceNumber };
  if (payload.subSequenceNumber !== undefined)
    item.subSequenceNumber = { N: String(payload.subSequenceNumber) };
  if (payload.aggregated !== undefined) item.aggregated = { BOOL: payload.aggregated };
  if (payload.shardId) item.shardId = { S: payload.shardId };
  if (payload.explicitHashKey) item.explicitHashKey = { S: payload.explicitHashKey };
  if (payload.arrival) item.approximateArrivalTimestamp = { N: String(payload.arrival.getTime()) };
  if (payload.eventSourceARN) item.eventSourceARN = { S: payload.eventSourceARN };
  if (expireAfter !== undefined) item.expireAfter = { N: String(expireAfter) };
  return item;
}

/** A record that could never be archived, as {@link ArchiveReader.quarantine} returns it. */
export interface QuarantinedRecord {
  /** Its id in the quarantine (pass it to `ArchiveWriter.redrive({ ids })`). */
  id: string;
  /** `'data'`: `data` is the record's data, byte-exact. `'raw'`: the input was not a readable record; `data` is it as JSON text. */
  payloadKind: 'data' | 'raw';
  data: Uint8Array;
  /** The record's own partition key (a KPL sub-record's, not its aggregate's), when it had one. */
  partitionKey?: string;
  /** Its (outer) Kinesis sequence number, when it had one. */
  sequenceNumber?: string;
  subSequenceNumber?: number;
  /** True when it came out of a KPL aggregate. */
  aggregated?: boolean;
  shardId?: string;
  explicitHashKey?: string;
  approximateArrivalTimestamp?: Date;
  /** The stream, for a Lambda event record. */
  eventSourceARN?: string;
  /** Why it was quarantined: the typed error's code (`RECORD_TOO_LARGE`, ...) and message. */
  error: { code: string; message: string };
  quarantinedAt: Date;
  expireAfter?: Date;
}

/** Decodes a quarantine item whose data has been read (inline or from its chunks). */
export function decodeQuarantineItem(item: Item, data: Uint8Array): QuarantinedRecord | undefined {
  const id = idOfQuarantineItem(item);
  if (id === undefined || item.quarantinedAt?.N === undefined) return undefined;
  const record: QuarantinedRecord = {
    id,
    payloadKind: item.payloadKind?.S === 'raw' ? 'raw' : 'data',
    data,
    error: { code: item.errorCode?.S ?? '', message: item.errorMessage?.S ?? '' },
    quarantinedAt: new Date(Number(item.quarantinedAt.N)),
  };
  if (item.recordPartitionKey?.S !== undefined) record.partitionKey = item.recordPartitionKey.S;
  if (item.sequenceNumber?.S !== undefined) record.sequenceNumber = item.sequenceNumber.S;
  if (item.subSequenceNumber?.N !== undefined) record.subSequenceNumber = Number(item.subSequenceNumber.N);
  if (item.aggregated?.BOOL !== undefined) record.aggregated = item.aggregated.BOOL;
  if (item.shardId?.S) record.shardId = item.shardId.S;
  if (item.explicitHashKey?.S) record.explicitHashKey = item.explicitHashKey.S;
  if (item.approximateArrivalTimestamp?.N) {
    record.approximateArrivalTimestamp = new Date(Number(item.approximateArrivalTimestamp.N));
  }
  if (item.eventSourceARN?.S) record.eventSourceARN = item.eventSourceARN.S;
  if (item.expireAfter?.N) record.expireAfter = new Date(Number(item.expireAfter.N) * 1000);
  return record;
}
