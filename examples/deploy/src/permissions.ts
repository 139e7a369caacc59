import { archiverActions } from '@kinesis-archive/example-lambda-archiver/permissions';
import { producerActions } from '@kinesis-archive/example-lambda-producer/permissions';
import { replicationActions } from '@kinesis-archive/example-replication-app/permissions';

/**
 * What Lambda's poller sends with the function's role for a Kinesis event source mapping that polls (no enhanced
 * fan-out, so no `SubscribeToShard` / `DescribeStreamConsumer`), per the Lambda developer guide.
 */
export const kinesisPollerActions = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;

/**
 * What Lambda's poller sends for a DynamoDB Streams event source mapping: the mapping names the stream, so these
 * three, granted on the table's streams. (`dynamodb:ListStreams` is often granted too, but it supports no
 * resource but `*`: granted on a stream it does nothing, and the poller does not need it.)
 */
export const dynamodbStreamPollerActions = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
] as const;

/** What Lambda sends to an SQS on-failure destination of an event source mapping. */
export const onFailureQueueActions = ['sqs:SendMessage'] as const;

/** What the function needs of its own log group (it exists, so no `logs:CreateLogGroup`). */
export const logActions = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

/**
 * Every IAM action each function's role is granted, by where it comes from: the function's code (the lists kept
 * next to each handler and checked by its tests), Lambda's poller, the on-failure queue and the log group. The
 * deploy stack grants exactly these, and its test checks that the synthesized roles hold nothing else.
 */
export function functionActions(
  mode: 'ALL' | 'LATEST',
): Record<'producer' | 'archiver' | 'replication', string[]> {
  const sorted = (...lists: readonly (readonly string[])[]) => [...new Set(lists.flat())].sort();
  return {
    producer: sorted(producerActions, logActions),
    archiver: sorted(
      archiverActions[mode],
      archiverActions.readingTags,
      kinesisPollerActions,
      onFailureQueueActions,
      logActions,
    ),
    replication: sorted(replicationActions, dynamodbStreamPollerActions, onFailureQueueActions, logActions),
  };
}

export { archiverActions, producerActions, replicationActions };
