import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * An attribute value as Lambda delivers it in a DynamoDB Streams event: like the SDK's `AttributeValue`, except
 * that binary values (`B`, `BS`) are base64 strings.
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
  /** `INSERT`, `MODIFY` or `REMOVE` (TTL deletes are `REMOVE` with a service `userIdentity`). */
  eventName?: string;
  eventSourceARN?: string;
  dynamodb?: {
    Keys?: Record<string, LambdaAttributeValue>;
    NewImage?: Record<string, LambdaAttributeValue>;
    OldImage?: Record<string, LambdaAttributeValue>;
    SequenceNumber?: string;
    StreamViewType?: string;
  };
  userIdentity?: { type?: string; principalId?: string };
}

/** The event a DynamoDB Streams-triggered Lambda function receives. */
export interface DynamoDBStreamEvent {
  Records: DynamoDBStreamEventRecord[];
}

/** Converts one Lambda-event attribute value to the SDK's form (base64 binaries become bytes). */
export function toAttributeValue(value: LambdaAttributeValue): AttributeValue {
  if ('B' in value) return { B: Buffer.from(value.B, 'base64') };
  if ('BS' in value) return { BS: value.BS.map((b) => Buffer.from(b, 'base64')) };
  if ('L' in value) return { L: value.L.map(toAttributeValue) };
  if ('M' in value) return { M: toAttributeMap(value.M) };
  return value;
}

/** Converts a Lambda-event image or key map to the SDK's form. */
export function toAttributeMap(image: Record<string, LambdaAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toAttributeValue(value);
  return out;
}
