import { InvalidEnvelopeError } from './errors.js';
import type { ReplayRecord } from './types.js';

/** Version tag of the envelope format; the `kinesisArchiveEnvelope` field of every envelope. */
export const ENVELOPE_VERSION = 1;

/**
 * The optional metadata envelope (`envelope: true`): the replayed record's data is the UTF-8 JSON of this object.
 * `data` is the original payload in base64, so any bytes survive; the other fields are the archived metadata,
 * present when the source had them.
 */
export interface ReplayEnvelope {
  /** Always {@link ENVELOPE_VERSION}. */
  kinesisArchiveEnvelope: number;
  /** The original partition key. */
  partitionKey: string;
  /** The original sequence number. */
  sequenceNumber?: string | undefined;
  /** The original sub-sequence number. */
  subSequenceNumber?: number | undefined;
  /** The shard the record was read from. */
  shardId?: string | undefined;
  /** The original arrival time, ISO 8601. */
  approximateArrivalTimestamp?: string | undefined;
  /** The original explicit hash key. */
  explicitHashKey?: string | undefined;
  /** The original payload, base64. */
  data: string;
}

/** Wraps a record's payload and metadata in the envelope; returns the bytes to send. */
export function wrapEnvelope(record: ReplayRecord, data: Uint8Array): Uint8Array {
  const envelope: ReplayEnvelope = {
    kinesisArchiveEnvelope: ENVELOPE_VERSION,
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
    shardId: record.shardId,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp?.toISOString(),
    explicitHashKey: record.explicitHashKey,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/**
 * Reads an envelope written by a replay with `envelope: true`: the metadata and the original bytes.
 *
 * @example
 * ```ts
 * const { envelope, data } = unwrapEnvelope(record.Data);
 * console.log(envelope.sequenceNumber, data.length);
 * ```
 * @throws {@link InvalidEnvelopeError} when the bytes are not an envelope.
 */
export function unwrapEnvelope(bytes: Uint8Array): { envelope: ReplayEnvelope; data: Uint8Array } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new InvalidEnvelopeError('not JSON', error);
  }
  const e = parsed as Partial<ReplayEnvelope> | null;
  if (!e || typeof e !== 'object' || e.kinesisArchiveEnvelope !== ENVELOPE_VERSION) {
    throw new InvalidEnvelopeError(`no kinesisArchiveEnvelope: ${ENVELOPE_VERSION} field`);
  }
  if (typeof e.partitionKey !== 'string' || typeof e.data !== 'string') {
    throw new InvalidEnvelopeError('partitionKey and data must be strings');
  }
  return { envelope: e as ReplayEnvelope, data: new Uint8Array(Buffer.from(e.data, 'base64')) };
}
