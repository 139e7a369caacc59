// 64 shards of a fake stream, one of them hung: do the other 63 go as fast as 64 healthy shards, and how long
// from a write to its event? Run: pnpm --filter @kinesis-archive/dynamodb-stream bench
import { GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBStream } from '../src/index.js';
import { FakeStreams, makeRecord } from '../test/fake-streams.js';

const SHARDS = 64;
const SECONDS = 5;
const PER_SHARD_PER_SECOND = 100;
const POLL_MS = 200;
const CALL_MS = 3; // a round trip, as the service would take

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function run(hung: boolean) {
  const fake = new FakeStreams();
  for (let i = 0; i < SHARDS; i++) fake.addShard(`shard-${i}`);
  const client = {
    send: async (command: unknown) => {
      if (
        hung &&
        command instanceof GetRecordsCommand &&
        command.input.ShardIterator?.startsWith('shard-0|')
      ) {
        return new Promise(() => undefined); // never answers
      }
      await new Promise((resolve) => setTimeout(resolve, CALL_MS));
      return fake.send(command);
    },
  } as unknown as FakeStreams;
  const putAt = new Map<string, number>();
  const latencies: number[] = [];
  let events = 0;
  const stream = new DynamoDBStream({ client, streamArn: 'arn:bench' });
  stream.on('record', (r) => {
    if (r.shardId === 'shard-0') return;
    events++;
    const t = putAt.get(r.eventID ?? '');
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  stream.start({ pollIntervalMs: POLL_MS });
  const started = performance.now();
  let n = 0;
  const tick = 50;
  while (performance.now() - started < SECONDS * 1000) {
    for (let i = 0; i < SHARDS; i++) {
      for (let k = 0; k < (PER_SHARD_PER_SECOND * tick) / 1000; k++) {
        const record = makeRecord('INSERT', `k${n++}`, { id: { S: `k${n}` }, v: { N: '1' } });
        fake.put(`shard-${i}`, record);
        putAt.set(record.eventID!, performance.now());
      }
    }
    await new Promise((resolve) => setTimeout(resolve, tick));
  }
  const written = (SHARDS - 1) * ((performance.now() - started) / 1000) * PER_SHARD_PER_SECOND;
  await new Promise((resolve) => setTimeout(resolve, POLL_MS * 2));
  const seconds = (performance.now() - started) / 1000;
  await stream.stop();
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSecond: events / seconds,
    delivered: events / written,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const healthy = await run(false);
const withHung = await run(true);
const show = (name: string, r: Awaited<ReturnType<typeof run>>) =>
  console.log(
    `${name}: ${Math.round(r.eventsPerSecond)} events/s from shards 1-63, write-to-event p50 ${Math.round(r.p50)} ms, p99 ${Math.round(r.p99)} ms (poll ${POLL_MS} ms)`,
  );
show('64 healthy shards', healthy);
show('shard 0 hung      ', withHung);
console.log(
  `the other 63 with one hung: ${((withHung.eventsPerSecond / healthy.eventsPerSecond) * 100).toFixed(1)}% of the healthy rate (goal >= 90%); p99 ${Math.round(withHung.p99)} ms (goal <= ${POLL_MS + 100} ms)`,
);
