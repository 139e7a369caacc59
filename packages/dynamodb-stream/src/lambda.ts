import type { _Record, AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { BatchItemFailure } from '@kinesis-archive/core';
import { RecordDecodeError } from './errors.js';
import { type ChangeRecord, toChangeRecord, type UnmarshallSetting } from './records.js';

/**
 * An attribute value as Lambda delivers it in a DynamoDB Streams event (JSON): like the SDK's `AttributeValue`,
 * except that binary values (`B`, `BS`) are base64 strings.
 */
export type LambdaAttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { BOOL: boolean }
  | { NULL: boolean }
  | { L: LambdaAttributeValue[] }
  | { M: Record<string, LambdaAttributeValue> };

/** One record of a DynamoDB Streams event delivered to Lambda. */
export interface DynamoDBStreamEventRecord {
  eventID?: string;
  /** `INSERT`, `MODIFY` or `REMOVE` (TTL deletes are a `REMOVE` with a service `userIdentity`). */
  eventName?: string;
  eventVersion?: string;
  /** `aws:dynamodb`. */
  eventSource?: string;
  awsRegion?: string;
  /** The stream's ARN. */
  eventSourceARN?: string;
  dynamodb?: {
    /** Time of the change, in seconds since the epoch. */
    ApproximateCreationDateTime?: number;
    Keys?: Record<string, LambdaAttributeValue>;
    NewImage?: Record<string, LambdaAttributeValue>;
    OldImage?: Record<string, LambdaAttributeValue>;
    SequenceNumber?: string;
    SizeBytes?: number;
    StreamViewType?: string;
  };
  /** On AWS, TTL deletes carry `{ type: 'Service', principalId: 'dynamodb.amazonaws.com' }`. */
  userIdentity?: { type?: string; principalId?: string };
}

/** The event a DynamoDB Streams-triggered Lambda function receives. */
export interface DynamoDBStreamEvent {
  Records: DynamoDBStreamEventRecord[];
}

/**
 * Partial batch response of a DynamoDB Streams-triggered function (`FunctionResponseTypes:
 * ["ReportBatchItemFailures"]`): `itemIdentifier` is the `SequenceNumber` of the first record that failed; Lambda
 * retries from it. An empty list means the whole batch succeeded.
 */
export interface DynamoDBBatchResponse {
  batchItemFailures: BatchItemFailure[];
}

/** Options of {@link fromLambdaRecord}. */
export interface FromLambdaRecordOptions {
  /** Decode images with the SDK's `unmarshall` (`true`, default), with these `unmarshall` options, or not (`false`). */
  unmarshall?: UnmarshallSetting;
  /** Put in {@link ChangeRecord.shardId}: Lambda's event does not name the shard. Default `''`. */
  shardId?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bytes(value: unknown): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new TypeError('binary value is not base64');
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function toAttributeValue(value: LambdaAttributeValue): AttributeValue {
  if (value === null || typeof value !== 'object') throw new TypeError('attribute value is not an object');
  if ('B' in value) return { B: bytes(value.B) };
  if ('BS' in value) return { BS: value.BS.map(bytes) };
  if ('L' in value) return { L: value.L.map(toAttributeValue) };
  if ('M' in value) return { M: toAttributeMap(value.M) };
  if ('S' in value || 'N' in value || 'SS' in value || 'NS' in value || 'BOOL' in value || 'NULL' in value) {
    return value;
  }
  throw new TypeError(`unknown attribute value type: ${Object.keys(value).join(',') || '(none)'}`);
}

function toAttributeMap(image: Record<string, LambdaAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toAttributeValue(value);
  return out;
}

/** The Lambda record in the shape `GetRecords` returns (base64 binaries as bytes, the time as a `Date`). */
function toSdkRecord(record: DynamoDBStreamEventRecord): _Record {
  const data = record.dynamodb ?? {};
  const time = data.ApproximateCreationDateTime;
  const identity = record.userIdentity;
  return {
    ...(record.eventID !== undefined ? { eventID: record.eventID } : {}),
    ...(record.eventName !== undefined ? { eventName: record.eventName as _Record['eventName'] } : {}),
    ...(record.eventVersion !== undefined ? { eventVersion: record.eventVersion } : {}),
    ...(record.eventSource !== undefined ? { eventSource: record.eventSource } : {}),
    ...(record.awsRegion !== undefined ? { awsRegion: record.awsRegion } : {}),
    dynamodb: {
      ...(typeof time === 'number' ? { ApproximateCreationDateTime: new Date(time * 1000) } : {}),
      ...(data.Keys ? { Keys: toAttributeMap(data.Keys) } : {}),
      ...(data.NewImage ? { NewImage: toAttributeMap(data.NewImage) } : {}),
      ...(data.OldImage ? { OldImage: toAttributeMap(data.OldImage) } : {}),
      ...(data.SequenceNumber !== undefined ? { SequenceNumber: data.SequenceNumber } : {}),
      ...(data.SizeBytes !== undefined ? { SizeBytes: data.SizeBytes } : {}),
      ...(data.StreamViewType !== undefined
        ? { StreamViewType: data.StreamViewType as NonNullable<_Record['dynamodb']>['StreamViewType'] }
        : {}),
    },
    ...(identity
      ? {
          userIdentity: {
            ...(identity.type !== undefined ? { Type: identity.type } : {}),
            ...(identity.principalId !== undefined ? { PrincipalId: identity.principalId } : {}),
          },
        }
      : {}),
  };
}

/**
 * Turns a record of a Lambda DynamoDB Streams event into this package's {@link ChangeRecord}, as
 * {@link DynamoDBStream} delivers them: images unmarshalled (by default; base64 binaries become bytes), the change
 * type (an unknown event name judged by the images, never dropped), `ttlDelete`, the time as a `Date`, and `raw` in
 * the SDK's `GetRecords` shape.
 *
 * @throws {@link RecordDecodeError} for a record that cannot be decoded: no valid sequence number, a binary value
 *   that is not base64, an unknown attribute type, or an image `unmarshall` refuses.
 *
 * @example
 * ```ts
 * export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
 *   for (const record of event.Records) {
 *     const change = fromLambdaRecord(record);
 *     if (change.eventName === 'REMOVE') await target.delete(change.keys);
 *     else await target.put(change.newImage);
 *   }
 *   return { batchItemFailures: [] };
 * }
 * ```
 */
export function fromLambdaRecord(
  record: DynamoDBStreamEventRecord,
  options: FromLambdaRecordOptions = {},
): ChangeRecord {
  const shardId = options.shardId ?? '';
  try {
    return toChangeRecord(shardId, toSdkRecord(record), options.unmarshall ?? true);
  } catch (error) {
    throw new RecordDecodeError(shardId, String(record?.dynamodb?.SequenceNumber ?? '?'), error);
  }
}
