import { fileURLToPath } from 'node:url';

/** Absolute path of a file of a sibling example, relative to this file (works from `src/` under tsx and vitest). */
function exampleFile(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}

/** Entry files of the Lambda handlers the stack bundles. */
export const handlerEntries = {
  /** Kinesis -> DynamoDB archiver (`examples/lambda-archiver`). */
  archiver: exampleFile('lambda-archiver/src/handler.ts'),
  /** Aggregating producer (`examples/lambda-producer`). */
  producer: exampleFile('lambda-producer/src/handler.ts'),
  /** DynamoDB Streams -> target table replication (`examples/replication-app`). */
  replication: exampleFile('replication-app/src/lambda.ts'),
} as const;

/** The workspace lock file, which tells the bundler where the project root is. */
export const lockFile: string = fileURLToPath(new URL('../../../pnpm-lock.yaml', import.meta.url));
