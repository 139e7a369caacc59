/**
 * Replay throughput against kinesis-mock: the replayer vs a naive one-PutRecord-per-record loop (what the old
 * archiver did) vs a bare PutRecords loop (the stand-in's capacity), and with `aggregate: true`.
 * 20,000 records of 1 KiB over 2,000 keys, every variant on all of them; a fresh stream per variant. Run: `pnpm bench`.
 *
 * The stream has 64 shards (`BENCH_SHARDS`): kinesis-mock's cost per written record grows with the number of records
 * already in the record's shard (it re-hashes the shard's record list on every write), which real Kinesis does not
 * do. With 64 shards each shard holds about 310 records at the end, so that growth stays small and the figures
 * compare requests, which is what a writer controls. `BENCH_SHARDS=4` shows the growth.
 */
import { DeleteStreamCommand, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createStream, startLocalAws, uniqueName } from '@kinesis-archive/local';
import { type ReplayRecord, replay } from '../src/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const TOTAL = Number(process.env.BENCH_RECORDS ?? 20_000);
const NAIVE_RECORDS = Number(process.env.BENCH_NAIVE_RECORDS ?? TOTAL);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 64);

function records(n: number): ReplayRecord[] {
  const out: ReplayRecord[] = [];
  for (let i = 0; i < n; i++) {
    const data = Buffer.alloc(1024, i & 0xff);
    data.writeUInt32BE(i, 0);
    out.push({ partitionKey: `user-${i % 2_000}`, data, sequenceNumber: String(10_000 + i) });
  }
  return out;
}

async function* iterate(list: ReplayRecord[]): AsyncIterable<ReplayRecord> {
  for (const r of list) yield r;
}

async function main(): Promise<void> {
  const aws = await startLocalAws({ kinesis: true, dynamodb: false });
  const kinesis = aws.clients.kinesis;
  const fresh = async () => {
    const name = uniqueName('bench');
    await createStream(kinesis, name, { shards: SHARDS });
    return name;
  };
  const data = records(TOTAL);
  const rows: {
    variant: string;
    records: number;
    seconds: number;
    perSecond: number;
    kinesisRecords: number;
  }[] = [];
  const run = async (variant: string, n: number, fn: (stream: string) => Promise<number>) => {
    const stream = await fresh();
    const t0 = performance.now();
    const kinesisRecords = await fn(stream);
    const seconds = (performance.now() - t0) / 1000;
    // every variant starts on an otherwise empty stand-in (and within its shard limit)
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }));
    rows.push({ variant, records: n, seconds, perSecond: n / seconds, kinesisRecords });
    console.log(
      `${variant}: ${n} records in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(0)} records/s`,
    );
  };
  try {
    await run('bare PutRecords loop (500/request, sequential)', TOTAL, async (stream) => {
      for (let i = 0; i < TOTAL; i += 500) {
        const batch = data
          .slice(i, i + 500)
          .map((r) => ({ PartitionKey: r.partitionKey, Data: r.data as Uint8Array }));
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
        if (out.FailedRecordCount) throw new Error('bare loop: failed records');
      }
      return TOTAL;
    });
    await run('replay()', TOTAL, async (stream) => {
      const r = await replay({ source: iterate(data), kinesis, streamName: stream });
      if (!r.ok || r.sent !== TOTAL) throw new Error('replay failed');
      return r.kinesisRecords;
    });
    await run('replay({ writer: { concurrency: 1 } })', TOTAL, async (stream) => {
      const r = await replay({
        source: iterate(data),
        kinesis,
        streamName: stream,
        writer: { concurrency: 1 },
      });
      if (!r.ok || r.sent !== TOTAL) throw new Error('replay failed');
      return r.kinesisRecords;
    });
    await run('replay({ aggregate: true })', TOTAL, async (stream) => {
      const r = await replay({ source: iterate(data), kinesis, streamName: stream, aggregate: true });
      if (!r.ok || r.sent !== TOTAL) throw new Error('replay failed');
      return r.kinesisRecords;
    });
    const naiveName =
      NAIVE_RECORDS === TOTAL ? 'naive PutRecord loop' : `naive PutRecord loop (first ${NAIVE_RECORDS})`;
    await run(naiveName, NAIVE_RECORDS, async (stream) => {
      for (const r of data.slice(0, NAIVE_RECORDS)) {
        await kinesis.send(
          new PutRecordCommand({
            StreamName: stream,
            PartitionKey: r.partitionKey,
            Data: r.data as Uint8Array,
          }),
        );
      }
      return NAIVE_RECORDS;
    });
  } finally {
    aws.clients.destroy();
    await aws.stop();
  }
  const bare = rows[0]!.perSecond;
  const naive = rows.at(-1)!.perSecond;
  console.log(
    `\nnode ${process.version}; ${TOTAL} records of 1 KiB over 2,000 keys; a fresh ${SHARDS}-shard stream per variant`,
  );
  console.log('| variant | records | seconds | records/s | Kinesis records | vs bare loop | vs naive loop |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.variant} | ${r.records} | ${r.seconds.toFixed(2)} | ${r.perSecond.toFixed(0)} | ${r.kinesisRecords} | ${((r.perSecond / bare) * 100).toFixed(0)}% | ${(r.perSecond / naive).toFixed(1)}x |`,
    );
  }
}

let finished = false;
// a variant whose promise never settles (nothing left to wait for) would otherwise end the bench silently, exit 0
process.on('exit', () => {
  if (!finished) {
    console.error('the bench ended before every variant finished: a replay never settled');
    process.exitCode = 1;
  }
});
main()
  .then(() => {
    finished = true;
  })
  .catch((error: unknown) => {
    finished = true;
    console.error(error);
    process.exitCode = 1;
  });
