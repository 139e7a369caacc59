/**
 * The IAM actions the archiver sends, kept next to the code that sends them. The deploy example grants exactly
 * these (on the archive table), and `test/permissions.test.ts` records what the handler sends on every path
 * (records, large records in chunks, a poison record, re-deliveries, stale records, a refused or lost head write)
 * and fails when it sends one that is not listed here, or when one listed here is never sent.
 */
export const archiverActions = {
  /** Writing an ALL archive. */
  ALL: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem'],
  /** Writing a LATEST archive. */
  LATEST: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  /**
   * Reading the stream's `StreamArchiveMode` / `ArchiveTTL` tags (which win over the environment), on the stream:
   * sent when the handler has a Kinesis client, as the deployed `handler` does.
   */
  readingTags: ['kinesis:ListTagsForStream'],
} as const satisfies Record<string, readonly string[]>;
