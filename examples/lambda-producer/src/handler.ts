import { KinesisClient } from '@aws-sdk/client-kinesis';
import { describeError, KinesisArchiveError } from '@kinesis-archive/core';
import { parseProducerInput, type RejectedEvent } from './input.js';
import { createProducer, type Producer } from './producer.js';

/** The JSON answer of the producer Lambda. */
export interface ProducerResponse {
  /** Events found in the payload. */
  received: number;
  /** Events Kinesis acknowledged. */
  sent: number;
  /** Kinesis records written. */
  kinesisRecords: number;
  /** Entries re-sent after partial failures or throttling. */
  retries: number;
  /** Events not sent: their key, error code and message. */
  failed: { key: string; code: string; message: string }[];
  /** Input entries that were not events, with the reason. */
  rejected: RejectedEvent[];
}

let producer: Producer | undefined;

/**
 * The deployed Lambda entry point: `{ events: [{ key, payload }] }` (or an HTTP request whose JSON body is that)
 * in, {@link ProducerResponse} out. Environment: `STREAM_NAME` (required). The client and the shard map are created
 * once per execution environment and reused.
 */
export async function handler(input: unknown): Promise<ProducerResponse> {
  if (!producer) {
    const streamName = process.env.STREAM_NAME;
    if (!streamName)
      throw new KinesisArchiveError('MISSING_CONFIG', 'the STREAM_NAME environment variable is not set');
    producer = createProducer({ kinesis: new KinesisClient({}), streamName });
  }
  const { events, rejected } = parseProducerInput(input);
  const result = await producer.send(events);
  return {
    received: events.length + rejected.length,
    sent: result.sent,
    kinesisRecords: result.kinesisRecords,
    retries: result.retries,
    failed: result.failed.map(({ key, error }) => ({
      key,
      code: error instanceof KinesisArchiveError ? error.code : error.name,
      message: describeError(error),
    })),
    rejected,
  };
}
