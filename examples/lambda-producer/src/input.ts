import { KinesisArchiveError } from '@kinesis-archive/core';

/** One application event: a key (the Kinesis partition key) and a payload. */
export interface ProducerEvent {
  /** Partition key: events of one key keep their order and land on one shard. */
  key: string;
  /** A string is sent as UTF-8, a `Uint8Array` as it is, anything else as its JSON text. */
  payload: unknown;
  /** Optional explicit hash key (decimal) to route the event to a chosen shard. */
  explicitHashKey?: string;
}

/** An input entry that is not a usable event, with where it was and why. */
export interface RejectedEvent {
  /** Position of the entry in the input (`events[i]`). */
  index: number;
  /** Why it was rejected. */
  reason: string;
}

/** The events found in an invocation payload, and the entries that could not be read. */
export interface ParsedInput {
  events: ProducerEvent[];
  rejected: RejectedEvent[];
}

/** Thrown when the payload has none of the accepted shapes. Code `INVALID_PRODUCER_INPUT`. */
export class ProducerInputError extends KinesisArchiveError {
  constructor(message: string) {
    super('INVALID_PRODUCER_INPUT', message);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toEvent(value: unknown): ProducerEvent | string {
  if (!isObject(value)) return 'not an object';
  const { key, payload, explicitHashKey } = value;
  if (typeof key !== 'string' || key.length === 0) return '`key` must be a non-empty string';
  if (payload === undefined) return '`payload` is missing';
  if (explicitHashKey !== undefined && typeof explicitHashKey !== 'string') {
    return '`explicitHashKey` must be a decimal string';
  }
  return explicitHashKey === undefined ? { key, payload } : { key, payload, explicitHashKey };
}

function fromJsonBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    return Symbol.for('invalid-json');
  }
}

/**
 * Reads the events of an invocation. Accepted shapes:
 * - direct invocation: `{ events: [{ key, payload, explicitHashKey? }, ...] }`;
 * - API Gateway / function URL: `{ body: '{"events":[...]}' }` (base64 when `isBase64Encoded`).
 *
 * Entries that are not events are returned in `rejected` with the reason (never dropped silently); a payload of
 * another shape throws {@link ProducerInputError}.
 */
export function parseProducerInput(input: unknown): ParsedInput {
  if (!isObject(input)) throw new ProducerInputError('the payload must be an object');
  if ('body' in input && !('events' in input)) {
    const raw =
      input.isBase64Encoded === true && typeof input.body === 'string'
        ? Buffer.from(input.body, 'base64').toString('utf8')
        : input.body;
    const body = fromJsonBody(raw);
    if (!isObject(body))
      throw new ProducerInputError('the request body must be a JSON object `{ "events": [...] }`');
    return parseProducerInput(body);
  }
  if (!Array.isArray(input.events)) {
    throw new ProducerInputError('expected `{ events: [...] }` or an HTTP request whose body is that JSON');
  }
  const parsed: ParsedInput = { events: [], rejected: [] };
  input.events.forEach((entry: unknown, index: number) => {
    const event = toEvent(entry);
    if (typeof event === 'string') parsed.rejected.push({ index, reason: event });
    else parsed.events.push(event);
  });
  return parsed;
}
