import { describe, expect, it } from 'vitest';
import { ProducerInputError, parseProducerInput } from '../src/input.js';

describe('parseProducerInput', () => {
  it('reads a direct invocation', () => {
    expect(
      parseProducerInput({
        events: [
          { key: 'a', payload: { n: 1 } },
          { key: 'b', payload: 'x', explicitHashKey: '7' },
        ],
      }),
    ).toEqual({
      events: [
        { key: 'a', payload: { n: 1 } },
        { key: 'b', payload: 'x', explicitHashKey: '7' },
      ],
      rejected: [],
    });
  });

  it('reads an HTTP request body, plain or base64', () => {
    const body = JSON.stringify({ events: [{ key: 'a', payload: 'x' }] });
    expect(parseProducerInput({ body }).events).toEqual([{ key: 'a', payload: 'x' }]);
    expect(
      parseProducerInput({ body: Buffer.from(body).toString('base64'), isBase64Encoded: true }).events,
    ).toEqual([{ key: 'a', payload: 'x' }]);
  });

  it('rejects bad entries by position with a reason, keeping the good ones', () => {
    const parsed = parseProducerInput({
      events: [
        { key: 'ok', payload: 1 },
        'text',
        { key: '', payload: 1 },
        { key: 'k' },
        { key: 'k', payload: 1, explicitHashKey: 5 },
      ],
    });
    expect(parsed.events).toEqual([{ key: 'ok', payload: 1 }]);
    expect(parsed.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4]);
    expect(parsed.rejected.every((r) => r.reason.length > 0)).toBe(true);
  });

  it('throws a typed error for a payload of another shape', () => {
    for (const input of [null, 'x', { Records: [] }, { body: 'not json' }, { body: '[1]' }]) {
      expect(() => parseProducerInput(input)).toThrow(ProducerInputError);
    }
  });
});
