import { describe, expect, it } from 'vitest';
import {
  comparePositions,
  compareSequenceNumbers,
  decodeSequenceKey,
  encodeSequenceKey,
  InvalidSequenceNumberError,
  isSequenceNumber,
  SEQUENCE_KEY_LENGTH,
} from '../src/index.js';

const nines56 = '9'.repeat(56);
const ten57 = `1${'0'.repeat(56)}`;

describe('sequence numbers', () => {
  it('validates the Kinesis pattern', () => {
    expect(isSequenceNumber('0')).toBe(true);
    expect(isSequenceNumber('1'.repeat(129))).toBe(true);
    expect(isSequenceNumber('1'.repeat(130))).toBe(false);
    expect(isSequenceNumber('000000000000000000012')).toBe(true); // DynamoDB Local pads
    expect(isSequenceNumber(`000${'1'.repeat(130)}`)).toBe(false);
    expect(isSequenceNumber('')).toBe(false);
    expect(isSequenceNumber('12a')).toBe(false);
    expect(isSequenceNumber(12)).toBe(false);
  });

  it('compares as big integers across lengths', () => {
    expect(compareSequenceNumbers(nines56, ten57)).toBeLessThan(0);
    expect(compareSequenceNumbers(ten57, nines56)).toBeGreaterThan(0);
    expect(compareSequenceNumbers('5', '5')).toBe(0);
    expect(compareSequenceNumbers('0000000000000000000100', '99')).toBeGreaterThan(0);
    expect(compareSequenceNumbers('007', '7')).toBe(0);
    // string comparison would get this wrong:
    expect(nines56 > ten57).toBe(true);
  });

  it('agrees with BigInt on random pairs', () => {
    for (let i = 0; i < 2000; i++) {
      const a = randomSeq();
      const b = randomSeq();
      expect(Math.sign(compareSequenceNumbers(a, b))).toBe(Math.sign(Number(BigInt(a) - BigInt(b))) || 0);
    }
  });

  it('rejects malformed input with a typed error', () => {
    expect(() => compareSequenceNumbers('abc', '1')).toThrow(InvalidSequenceNumberError);
    expect(() => compareSequenceNumbers('1', '')).toThrow(/not a Kinesis sequence number/);
  });

  it('orders positions by sequence, then sub-sequence', () => {
    const sorted = [
      { sequenceNumber: ten57, subSequenceNumber: 0 },
      { sequenceNumber: nines56, subSequenceNumber: 2 },
      { sequenceNumber: nines56 },
      { sequenceNumber: nines56, subSequenceNumber: 1 },
    ].sort(comparePositions);
    expect(sorted.map((p) => `${p.sequenceNumber.length}:${p.subSequenceNumber ?? 0}`)).toEqual([
      '56:0',
      '56:1',
      '56:2',
      '57:0',
    ]);
  });
});

describe('sequence keys', () => {
  it('are fixed width and sort like positions', () => {
    const positions = Array.from({ length: 500 }, () => ({
      sequenceNumber: randomSeq(),
      subSequenceNumber: Math.floor(Math.random() * 1000),
    }));
    const keys = positions.map((p) => encodeSequenceKey(p.sequenceNumber, p.subSequenceNumber));
    for (const k of keys) expect(k).toHaveLength(SEQUENCE_KEY_LENGTH);
    const byKey = [...positions].sort((a, b) => {
      const ka = encodeSequenceKey(a.sequenceNumber, a.subSequenceNumber);
      const kb = encodeSequenceKey(b.sequenceNumber, b.subSequenceNumber);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    expect(byKey).toEqual([...positions].sort(comparePositions));
  });

  it('round-trip', () => {
    expect(decodeSequenceKey(encodeSequenceKey(ten57, 7))).toEqual({
      sequenceNumber: ten57,
      subSequenceNumber: 7,
    });
    expect(encodeSequenceKey('00042', 1)).toBe(encodeSequenceKey('42', 1));
    expect(decodeSequenceKey(encodeSequenceKey('0'))).toEqual({ sequenceNumber: '0', subSequenceNumber: 0 });
  });

  it('reject bad input', () => {
    expect(() => encodeSequenceKey('x')).toThrow(InvalidSequenceNumberError);
    expect(() => encodeSequenceKey('1', -1)).toThrow(/sub-sequence/);
    expect(() => encodeSequenceKey('1', 1.5)).toThrow(/sub-sequence/);
    expect(() => decodeSequenceKey('123')).toThrow(/not a sequence key/);
  });
});

function randomSeq(): string {
  const len = 1 + Math.floor(Math.random() * 60);
  let s = String(1 + Math.floor(Math.random() * 9));
  for (let i = 1; i < len; i++) s += String(Math.floor(Math.random() * 10));
  return Math.random() < 0.02 ? '0' : s;
}
