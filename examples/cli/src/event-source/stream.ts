import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { retry } from '@kinesis-archive/core';
import { EventSourceOptionsError, StreamNotFoundError } from './errors.js';

/** A stream's name, ARN and region. */
export interface StreamIdentity {
  streamName: string;
  streamARN: string;
  region: string;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/** Resolves the stream's name and ARN from either one (DescribeStreamSummary checks that it exists). */
export async function resolveStream(
  kinesis: KinesisClient,
  ref: { streamName?: string | undefined; streamARN?: string | undefined },
): Promise<StreamIdentity> {
  let name = ref.streamName;
  if (!name && ref.streamARN) {
    const match = /^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/(.+)$/.exec(ref.streamARN);
    if (!match?.[1]) throw new EventSourceOptionsError(`not a Kinesis stream ARN: ${ref.streamARN}`);
    name = match[1];
  }
  if (!name) throw new EventSourceOptionsError('streamName or streamARN is required');
  const streamName = name;
  try {
    const out = await retry(
      () => kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName })),
      {
        maxAttempts: 5,
      },
    );
    const streamARN = out.StreamDescriptionSummary?.StreamARN ?? ref.streamARN ?? '';
    return { streamName, streamARN, region: streamARN.split(':')[3] || (await kinesis.config.region()) };
  } catch (error) {
    if (isNotFound(error)) throw new StreamNotFoundError(ref.streamARN ?? streamName, error);
    throw error;
  }
}

/** Every shard of the stream (ListShards, all pages), closed ones included. */
export async function listAllShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const out = await retry(
      () => kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName })),
      { maxAttempts: 8 },
    );
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return shards;
}
