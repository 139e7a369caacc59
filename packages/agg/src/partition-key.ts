import { MAX_PARTITION_KEY_LENGTH } from './constants.js';

/** Unicode characters (code points) in `s`; a lone surrogate counts as one. */
function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * True when `partitionKey` has more than the 256 Unicode characters Kinesis allows (counted as code points, as
 * Kinesis counts them). Cheap for the usual key: only a key longer than 256 UTF-16 units is counted.
 *
 * @example
 * ```ts
 * isPartitionKeyTooLong('k'.repeat(257)); // true
 * isPartitionKeyTooLong('😀'.repeat(256)); // false: 512 UTF-16 units, 256 characters
 * ```
 */
export function isPartitionKeyTooLong(partitionKey: string): boolean {
  return (
    partitionKey.length > MAX_PARTITION_KEY_LENGTH && countCodePoints(partitionKey) > MAX_PARTITION_KEY_LENGTH
  );
}
