import type { _Record, AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import {
  type NumberValue,
  NumberValueImpl,
  unmarshall,
  type unmarshallOptions,
} from '@aws-sdk/util-dynamodb';
import { isSequenceNumber } from '@kinesis-archive/core';

/** An item image: a plain object (unmarshalled, the default) or DynamoDB `AttributeValue`s (`unmarshall: false`). */
export type Image = Record<string, unknown>;

/** The kind of change. */
export type ChangeType = 'INSERT' | 'MODIFY' | 'REMOVE';

/** Who made a change: on AWS, TTL deletes carry `{ type: 'Service', principalId: 'dynamodb.amazonaws.com' }`. */
export interface ChangeIdentity {
  type?: string;
  principalId?: string;
}

/** One change read from a shard, decoded. */
export interface ChangeRecord {
  /** The shard the record was read from. */
  shardId: string;
  /** The record's sequence number (a decimal string; compare with `compareSequenceNumbers`). */
  sequenceNumber: string;
  /** INSERT, MODIFY or REMOVE. A TTL delete is a REMOVE. */
  eventName: ChangeType;
  /** The event name as the service sent it (DynamoDB Local sends TTL deletes with a name the SDK does not know). */
  rawEventName: string | undefined;
  /** The record's `eventID`. */
  eventID: string | undefined;
  /** The key attributes of the item. */
  keys: Image;
  /** The item after the change (INSERT, MODIFY; absent for KEYS_ONLY / OLD_IMAGE streams). */
  newImage: Image | undefined;
  /** The item before the change (MODIFY, REMOVE; absent for KEYS_ONLY / NEW_IMAGE streams). */
  oldImage: Image | undefined;
  /** Who made the change, when the service says. */
  userIdentity: ChangeIdentity | undefined;
  /** True when the item was deleted by DynamoDB's TTL, not by a user. */
  ttlDelete: boolean;
  /** Approximate time of the change (DynamoDB Local truncates it to the minute). */
  approximateCreationDateTime: Date | undefined;
  /** The record exactly as `GetRecords` returned it (from `fromLambdaRecord`: the Lambda record in that shape). */
  raw: _Record;
}

/**
 * How images are decoded: `true` (default) with the SDK's `unmarshall` and {@link exactNumbers}, an options object
 * for `unmarshall`, or `false` (raw `AttributeValue`s).
 */
export type UnmarshallSetting = boolean | unmarshallOptions;

/**
 * The `wrapNumbers` of the default decoding: a DynamoDB number becomes a JavaScript number when that holds it
 * exactly, else the SDK's `NumberValue` (its `toString()` is the exact decimal). The SDK's own default throws
 * for an integer beyond 2^53, which would stop the shard at that change.
 *
 * @example
 * ```ts
 * exactNumbers('42');                   // 42
 * exactNumbers('12345678901234567890'); // NumberValue { value: '12345678901234567890' }
 * ```
 */
export function exactNumbers(value: string): number | NumberValue {
  const n = Number(value);
  if (Number.isFinite(n) && (Number.isSafeInteger(n) || (!Number.isInteger(n) && sameNumber(value, n)))) {
    return n;
  }
  return NumberValueImpl.from(value);
}

/** True when `n` is exactly the decimal `text` (up to notation: "1.50" and 1.5 are the same). */
function sameNumber(text: string, n: number): boolean {
  const canonical = text.trim().replace(/^\+/, '');
  if (String(n) === canonical) return true;
  // Compare digits without trailing zeros of the fraction.
  const trimmed =
    canonical.includes('.') && !/e/i.test(canonical) ? canonical.replace(/\.?0+$/, '') : canonical;
  return String(n) === trimmed;
}

/** `unmarshall` options of a setting (`true`: {@link exactNumbers}). */
export function unmarshallOptionsOf(setting: UnmarshallSetting): unmarshallOptions | undefined {
  if (setting === true) return { wrapNumbers: exactNumbers };
  if (setting === false) return undefined;
  return setting;
}

const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

function decodeImage(
  image: Record<string, AttributeValue> | undefined,
  setting: UnmarshallSetting,
): Image | undefined {
  if (!image) return undefined;
  if (setting === false) return image;
  // The two SDK packages declare structurally identical AttributeValue unions.
  return unmarshall(image as Parameters<typeof unmarshall>[0], unmarshallOptionsOf(setting));
}

/** The change type of a record, whatever name the service gave it. */
function classify(record: _Record): { eventName: ChangeType; ttlDelete: boolean } {
  const name = record.eventName as string | undefined;
  const identity = record.userIdentity;
  const byService = identity?.Type === 'Service' && identity.PrincipalId === TTL_PRINCIPAL;
  if (name === 'INSERT' || name === 'MODIFY') return { eventName: name, ttlDelete: false };
  if (name === 'REMOVE') return { eventName: 'REMOVE', ttlDelete: byService };
  // An event name the SDK does not know (DynamoDB Local's TTL deletes): judge by the images, never drop it. A
  // removal with an old image and no identity is DynamoDB Local's TTL delete; without an old image (a KEYS_ONLY
  // or NEW_IMAGE stream) nothing says it was TTL.
  const data = record.dynamodb;
  if (data?.NewImage) return { eventName: data.OldImage ? 'MODIFY' : 'INSERT', ttlDelete: false };
  return {
    eventName: 'REMOVE',
    ttlDelete: byService || (identity === undefined && data?.OldImage !== undefined),
  };
}

/**
 * Decodes a `GetRecords` record. Throws when an image cannot be unmarshalled (the caller stops the shard there).
 */
export function toChangeRecord(shardId: string, record: _Record, setting: UnmarshallSetting): ChangeRecord {
  const data = record.dynamodb ?? {};
  if (!isSequenceNumber(data.SequenceNumber)) {
    throw new TypeError(`record has no valid sequence number: ${String(data.SequenceNumber)}`);
  }
  const { eventName, ttlDelete } = classify(record);
  const identity = record.userIdentity;
  return {
    shardId,
    sequenceNumber: data.SequenceNumber,
    eventName,
    rawEventName: record.eventName as string | undefined,
    eventID: record.eventID,
    keys: decodeImage(data.Keys, setting) ?? {},
    newImage: decodeImage(data.NewImage, setting),
    oldImage: decodeImage(data.OldImage, setting),
    userIdentity: identity
      ? {
          ...(identity.Type !== undefined ? { type: identity.Type } : {}),
          ...(identity.PrincipalId !== undefined ? { principalId: identity.PrincipalId } : {}),
        }
      : undefined,
    ttlDelete,
    approximateCreationDateTime: data.ApproximateCreationDateTime,
    raw: record,
  };
}
