/**
 * The IAM actions the producer sends, kept next to the code that sends them: the shard map's `ListShards` and the
 * aggregates' `PutRecords`. The deploy example grants exactly these (on the stream), and
 * `test/permissions.test.ts` records what the producer sends (a first call, a reshard that makes it reload the
 * map and re-send, throttled and partly failed requests) and fails when it sends one that is not listed here, or
 * when one listed here is never sent.
 */
export const producerActions = ['kinesis:ListShards', 'kinesis:PutRecords'] as const;
