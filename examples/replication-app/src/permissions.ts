/**
 * The IAM actions the replication Lambda handler sends, kept next to the code that sends them: it puts each new
 * image and deletes on REMOVE. The deploy example grants exactly these (on the target table), and
 * `test/permissions.test.ts` records what the handler sends (inserts, updates, deletes, a throttled write) and
 * fails when it sends one that is not listed here, or when one listed here is never sent. (The long-running
 * `main.ts` app also describes and creates tables; it is not deployed.)
 */
export const replicationActions = ['dynamodb:DeleteItem', 'dynamodb:PutItem'] as const;
