import type { _Record, AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEventRecord, LambdaAttributeValue } from './lambda.js';

/** Where a record came from, to build its Lambda-shaped form with {@link toDynamoDBStreamEventRecord}. */
export interface DynamoDBEventSourceInfo {
  /** The stream's ARN (`arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`). */
  eventSourceARN: string;
  /** Default: the record's own `awsRegion`, else the region in `eventSourceARN`, else `us-east-1`. */
  awsRegion?: string;
}

function base64(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

function toLambdaValue(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  return value as LambdaAttributeValue;
}

function toLambdaImage(image: Record<string, AttributeValue>): Record<string, LambdaAttributeValue> {
  const out: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toLambdaValue(value);
  return out;
}

/**
 * Builds the Lambda event record for a record of DynamoDB Streams `GetRecords`, exactly as a DynamoDB Streams event
 * source mapping delivers it (JSON: binaries `B`/`BS` as base64, `ApproximateCreationDateTime` in epoch seconds,
 * `userIdentity` as `{ type, principalId }`, `eventSource` `aws:dynamodb`). Fields the record lacks are left out, so
 * the result survives `JSON.stringify`/`JSON.parse` unchanged. The inverse of {@link fromLambdaRecord}: for tests
 * and local runners of DynamoDB Streams-triggered handlers.
 *
 * @example
 * ```ts
 * const out = await streams.send(new GetRecordsCommand({ ShardIterator }));
 * const event = { Records: (out.Records ?? []).map((r) => toDynamoDBStreamEventRecord(r, { eventSourceARN: streamArn })) };
 * await handler(event);
 * ```
 */
export function toDynamoDBStreamEventRecord(
  record: _Record,
  source: DynamoDBEventSourceInfo,
): DynamoDBStreamEventRecord {
  const data = record.dynamodb ?? {};
  const time = data.ApproximateCreationDateTime;
  const identity = record.userIdentity;
  const arnRegion = source.eventSourceARN.split(':')[3];
  return {
    ...(record.eventID !== undefined ? { eventID: record.eventID } : {}),
    ...(record.eventName !== undefined ? { eventName: record.eventName } : {}),
    ...(record.eventVersion !== undefined ? { eventVersion: record.eventVersion } : {}),
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: source.awsRegion ?? record.awsRegion ?? (arnRegion || 'us-east-1'),
    dynamodb: {
      ...(time !== undefined ? { ApproximateCreationDateTime: time.getTime() / 1000 } : {}),
      ...(data.Keys ? { Keys: toLambdaImage(data.Keys) } : {}),
      ...(data.NewImage ? { NewImage: toLambdaImage(data.NewImage) } : {}),
      ...(data.OldImage ? { OldImage: toLambdaImage(data.OldImage) } : {}),
      ...(data.SequenceNumber !== undefined ? { SequenceNumber: data.SequenceNumber } : {}),
      ...(data.SizeBytes !== undefined ? { SizeBytes: data.SizeBytes } : {}),
      ...(data.StreamViewType !== undefined ? { StreamViewType: data.StreamViewType } : {}),
    },
    eventSourceARN: source.eventSourceARN,
    ...(identity
      ? {
          userIdentity: {
            ...(identity.Type !== undefined ? { type: identity.Type } : {}),
            ...(identity.PrincipalId !== undefined ? { principalId: identity.PrincipalId } : {}),
          },
        }
      : {}),
  };
}
