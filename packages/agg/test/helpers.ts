import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { deaggregate } from '../src/index.js';

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export { type TheirAgg, type TheirUserRecord, theirs } from './aws-kinesis-agg.js';

/** The KPL schema, for protobufjs's reflection decoder (an independent check of our hand-written encoder). */
const root = protobuf.Root.fromJSON({
  nested: {
    AggregatedRecord: {
      fields: {
        partitionKeyTable: { rule: 'repeated', type: 'string', id: 1 },
        explicitHashKeyTable: { rule: 'repeated', type: 'string', id: 2 },
        records: { rule: 'repeated', type: 'Record', id: 3 },
      },
    },
    Record: {
      fields: {
        partitionKeyIndex: { rule: 'required', type: 'uint64', id: 1 },
        explicitHashKeyIndex: { type: 'uint64', id: 2 },
        data: { rule: 'required', type: 'bytes', id: 3 },
        tags: { rule: 'repeated', type: 'Tag', id: 4 },
      },
    },
    Tag: {
      fields: { key: { rule: 'required', type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
    },
  },
});
export const AggregatedRecordType = root.lookupType('AggregatedRecord');

export interface DecodedAggregate {
  partitionKeyTable: string[];
  explicitHashKeyTable: string[];
  records: {
    partitionKeyIndex: number | { toNumber(): number };
    explicitHashKeyIndex?: unknown;
    data: Uint8Array;
  }[];
}

export function protobufDecode(aggregate: Uint8Array): DecodedAggregate {
  const body = aggregate.subarray(4, aggregate.length - 16);
  const msg = AggregatedRecordType.decode(body);
  return AggregatedRecordType.toObject(msg, {
    longs: Number,
    arrays: true,
    defaults: false,
  }) as DecodedAggregate;
}

export function protobufEncode(value: {
  partitionKeyTable: string[];
  explicitHashKeyTable?: string[];
  records: { partitionKeyIndex: number; explicitHashKeyIndex?: number; data: Uint8Array }[];
}): Uint8Array {
  return AggregatedRecordType.encode(AggregatedRecordType.fromObject(value)).finish();
}

/** The user records (key, UTF-8 text) of aggregated and lone records, in order; a bad aggregate throws. */
export const userRecords = (out: { data: Uint8Array; partitionKey: string; recordCount: number }[]) =>
  out.flatMap((r) =>
    r.recordCount === 1
      ? [{ partitionKey: r.partitionKey, data: Buffer.from(r.data).toString() }]
      : deaggregate({ data: r.data, partitionKey: r.partitionKey }, { onInvalid: 'throw' }).map((u) => ({
          partitionKey: u.partitionKey,
          data: Buffer.from(u.data).toString(),
        })),
  );
