import { KinesisArchiveError } from './errors.js';

/** The longest Kinesis sequence number, in decimal digits. */
export const MAX_SEQUENCE_DIGITS = 129;
/** Digits used for the sub-sequence number in a {@link encodeSequenceKey | sequence key}. */
export const SUB_SEQUENCE_DIGITS = 10;
/** Length of every key made by {@link encodeSequenceKey}. */
export const SEQUENCE_KEY_LENGTH = MAX_SEQUENCE_DIGITS + 1 + SUB_SEQUENCE_DIGITS;

const DIGITS = /^\d{1,256}$/;
const MAX_SUB_SEQUENCE = 4_294_967_295;

/** A position in a stream: a sequence number and, for user records of a KPL aggregate, a sub-sequence number. */
export interface RecordPosition {
  /** Kinesis sequence number, a decimal string of up to 129 digits. */
  sequenceNumber: string;
  /** Index of a user record inside its aggregate; 0 (the default) for plain records. */
  subSequenceNumber?: number;
}

/** Thrown for a string that is not a Kinesis sequence number. */
export class InvalidSequenceNumberError extends KinesisArchiveError {
  constructor(value: unknown) {
    super(
      'INVALID_SEQUENCE_NUMBER',
      `not a Kinesis sequence number: ${JSON.stringify(String(value)).slice(0, 160)}`,
      {
        details: { value },
      },
    );
  }
}

/**
 * True when `value` is a sequence number: a decimal string of at most 129 significant digits. Kinesis sends them
 * without leading zeros (`0|[1-9]\d{0,128}`); DynamoDB Streams (and DynamoDB Local) may zero-pad them, which is
 * accepted too and ignored by every comparison.
 */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && DIGITS.test(value) && significant(value).length <= MAX_SEQUENCE_DIGITS;
}

/** The digits without leading zeros (`"0"` for zero). */
function significant(value: string): string {
  let i = 0;
  while (i < value.length - 1 && value.charCodeAt(i) === 48) i++;
  return i === 0 ? value : value.slice(i);
}

/** Throws {@link InvalidSequenceNumberError} unless `value` is a sequence number. */
export function assertSequenceNumber(value: unknown): asserts value is string {
  if (!isSequenceNumber(value)) throw new InvalidSequenceNumberError(value);
}

/**
 * Compares two sequence numbers as big integers: negative when `a` is older, positive when newer, 0 when equal.
 * Correct across lengths (`"99"` is older than `"100"`), which plain string comparison is not.
 *
 * @throws {@link InvalidSequenceNumberError} for a value that is not a sequence number.
 */
export function compareSequenceNumbers(a: string, b: string): number {
  assertSequenceNumber(a);
  assertSequenceNumber(b);
  a = significant(a);
  b = significant(b);
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares two record positions by (sequence number as a big integer, sub-sequence number).
 * Suitable for `Array.prototype.sort`.
 */
export function comparePositions(a: RecordPosition, b: RecordPosition): number {
  return (
    compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber) ||
    (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0)
  );
}

function assertSubSequence(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SUB_SEQUENCE) {
    throw new KinesisArchiveError('INVALID_SUB_SEQUENCE_NUMBER', `not a sub-sequence number: ${value}`, {
      details: { value },
    });
  }
}

/**
 * Encodes a position as a fixed-width string whose byte order is the position order: the sequence number padded
 * to 129 digits, a `.`, and the sub-sequence number padded to 10 digits. Used as a DynamoDB sort key.
 *
 * @example
 * ```ts
 * encodeSequenceKey('99', 0) < encodeSequenceKey('100', 0); // true
 * ```
 */
export function encodeSequenceKey(sequenceNumber: string, subSequenceNumber = 0): string {
  assertSequenceNumber(sequenceNumber);
  assertSubSequence(subSequenceNumber);
  return `${significant(sequenceNumber).padStart(MAX_SEQUENCE_DIGITS, '0')}.${String(subSequenceNumber).padStart(SUB_SEQUENCE_DIGITS, '0')}`;
}

/** Reverses {@link encodeSequenceKey}. Throws {@link KinesisArchiveError} `INVALID_SEQUENCE_KEY` on a malformed key. */
export function decodeSequenceKey(key: string): Required<RecordPosition> {
  const dot = MAX_SEQUENCE_DIGITS;
  if (typeof key !== 'string' || key.length !== SEQUENCE_KEY_LENGTH || key[dot] !== '.') {
    throw new KinesisArchiveError('INVALID_SEQUENCE_KEY', `not a sequence key: ${String(key).slice(0, 160)}`);
  }
  const digits = key.slice(0, dot).replace(/^0+(?=\d)/, '');
  const sub = Number(key.slice(dot + 1));
  if (!isSequenceNumber(digits) || !/^\d+$/.test(key.slice(dot + 1))) {
    throw new KinesisArchiveError('INVALID_SEQUENCE_KEY', `not a sequence key: ${key.slice(0, 160)}`);
  }
  return { sequenceNumber: digits, subSequenceNumber: sub };
}
