import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  type StreamDescriptionSummary,
} from '@aws-sdk/client-kinesis';
import { NotFoundError } from './errors.js';

/**
 * DescribeStreamSummary, with a clear error when the stream does not exist (checked before a command starts its
 * work, so that it fails with `STREAM_NOT_FOUND` rather than with retries).
 */
export async function describeStream(
  kinesis: KinesisClient,
  streamName: string,
  hint = 'check the name, --region and the endpoint; `kinesis-archive create-stream` makes one',
): Promise<StreamDescriptionSummary> {
  try {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    return out.StreamDescriptionSummary ?? ({} as StreamDescriptionSummary);
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new NotFoundError('stream', streamName, hint);
    }
    throw error;
  }
}
