// aws-kinesis-agg 4.2.8, the oracle of the interop tests and the baseline of the benchmark. Its own typings import
// aws-sdk v2, so we type the parts we call here, once, for both.
import { createRequire } from 'node:module';

/** A user record as aws-kinesis-agg's `deaggregateSync` gives it back (data base64). */
export interface TheirUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  sequenceNumber: string;
  subSequenceNumber: number;
  data: string;
}

/** A user record as aws-kinesis-agg's `aggregate` takes it. */
export interface TheirRecord {
  partitionKey: string;
  data: Buffer | string;
  explicitHashKey?: string;
}

/** The parts of aws-kinesis-agg we call. */
export interface TheirAgg {
  aggregate(
    records: TheirRecord[],
    onRecord: (
      rec: { data: Buffer; partitionKey: string; explicitHashKey?: string },
      cb: (err?: Error) => void,
    ) => void,
    done: () => void,
    onError: (err: Error) => void,
  ): void;
  deaggregateSync(
    record: object,
    computeChecksums: boolean,
    cb: (err: Error | null, recs?: TheirUserRecord[]) => void,
  ): void;
}

export const theirs = createRequire(import.meta.url)('aws-kinesis-agg') as TheirAgg;
