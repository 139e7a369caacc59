import { MAX_HASH_KEY } from './constants.js';
import { InvalidExplicitHashKeyError, InvalidPartitionKeyError } from './errors.js';
import { keyHashWords, wordsHashKey } from './key-hash.js';

const EHK_PATTERN = /^(?:0|[1-9]\d{0,38})$/;
const MAX_HASH_KEY_TEXT = MAX_HASH_KEY.toString();

/** Reads 16 bytes at `offset` as a big-endian unsigned 128-bit integer. */
export function readUInt128BE(bytes: Buffer, offset = 0): bigint {
  return (bytes.readBigUInt64BE(offset) << 64n) | bytes.readBigUInt64BE(offset + 8);
}

/** True when `value` is a canonical explicit hash key: a decimal string of an integer in `0 .. 2^128-1`. */
export function isExplicitHashKey(value: unknown): value is string {
  if (typeof value !== 'string' || !EHK_PATTERN.test(value)) return false;
  return value.length < 39 || value <= MAX_HASH_KEY_TEXT;
}

/**
 * The hash key Kinesis routes a record by: its explicit hash key when given, else the MD5 of the UTF-8 partition
 * key read as a big-endian unsigned 128-bit integer.
 *
 * @example
 * ```ts
 * hashKeyOf('abc'); // 191415658344158766168031473277922803570n
 * hashKeyOf('abc', '42'); // 42n
 * ```
 * @throws {@link InvalidExplicitHashKeyError} for a malformed explicit hash key,
 *   {@link InvalidPartitionKeyError} when `partitionKey` is not a string.
 */
export function hashKeyOf(partitionKey: string, explicitHashKey?: string): bigint {
  if (explicitHashKey !== undefined) {
    if (!isExplicitHashKey(explicitHashKey)) {
      throw new InvalidExplicitHashKeyError({ index: -1, partitionKey }, explicitHashKey);
    }
    return BigInt(explicitHashKey);
  }
  if (typeof partitionKey !== 'string') {
    throw new InvalidPartitionKeyError({ index: -1, partitionKey }, 'not a string');
  }
  keyHashWords(partitionKey, words);
  return wordsHashKey(words);
}

const words = new Uint32Array(4);

/** Parses a hash key given as a bigint or a decimal string; `undefined` when it is not one in range. */
export function toHashKey(value: bigint | string): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= MAX_HASH_KEY ? value : undefined;
  return isExplicitHashKey(value) ? BigInt(value) : undefined;
}
