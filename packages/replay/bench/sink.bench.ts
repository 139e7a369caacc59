/**
 * The replayer's own cost, which kinesis-mock hides: against a stand-in that answers `PutRecords` at once (in a
 * process of its own, the same for every variant), one process's records/s and MiB/s for 1 KiB records, against a
 * bare `PutRecords` loop with as many requests in flight. Then peak memory: 1,000,000 records from a generator,
 * and the same with every request refused (each case in a process of its own). Run: `pnpm bench`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
// the built package, as users run it (`pnpm bench` builds first)
import { replay } from '../dist/index.js';
import { generate, sinkClient, startSink } from './sink-common.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const RECORDS = Number(process.env.BENCH_SINK_RECORDS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MEMORY_RECORDS = Number(process.env.MEMORY_RECORDS ?? 1_000_000);
const IN_FLIGHT = 4; // the writer's default concurrency

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const sink = await startSink('ok');
  const { kinesis, destroy } = sinkClient(sink.endpoint);
  const variants: Record<string, () => Promise<void>> = {
    [`bare PutRecords loop (500/request, ${IN_FLIGHT} in flight)`]: async () => {
      const inFlight = new Set<Promise<unknown>>();
      let batch: PutRecordsRequestEntry[] = [];
      const flush = async () => {
        const p = kinesis.send(new PutRecordsCommand({ StreamName: 'bench', Records: batch }));
        batch = [];
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      };
      for await (const r of generate(RECORDS)) {
        batch.push({ PartitionKey: r.partitionKey, Data: r.data as Uint8Array });
        if (batch.length === 500) await flush();
      }
      if (batch.length > 0) await flush();
      await Promise.all(inFlight);
    },
    'replay() (rateLimit: false)': async () => {
      const r = await replay({ source: generate(RECORDS), kinesis, streamName: 'bench', rateLimit: false });
      if (!r.ok || r.sent !== RECORDS) throw new Error('replay failed');
    },
    'replay() (64-shard rate limiter, limits never reached)': async () => {
      const r = await replay({
        source: generate(RECORDS),
        kinesis,
        streamName: 'bench',
        rateLimit: { recordsPerSecond: 1e9, bytesPerSecond: 1e15 },
      });
      if (!r.ok || r.sent !== RECORDS) throw new Error('replay failed');
    },
  };
  const times = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
  try {
    // a warm-up round (the JIT compiles each variant's code), not counted; then interleaved rounds
    for (let round = -1; round < ROUNDS; round++) {
      for (const [name, fn] of Object.entries(variants)) {
        const t0 = performance.now();
        await fn();
        if (round >= 0) times.get(name)!.push((performance.now() - t0) / 1000);
      }
    }
  } finally {
    destroy();
    sink.stop();
  }
  const bare = median(times.values().next().value!);
  console.log(
    `\nnode ${process.version}; ${RECORDS} generated records of 1 KiB, median of ${ROUNDS} interleaved rounds after a warm-up round`,
  );
  console.log('| variant | seconds | records/s | MiB/s | vs bare loop |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, list] of times) {
    const s = median(list);
    const mib = (RECORDS * (1024 + 10)) / 1_048_576 / s;
    console.log(
      `| ${name} | ${s.toFixed(2)} | ${(RECORDS / s).toFixed(0)} | ${mib.toFixed(1)} | ${((bare / s) * 100).toFixed(0)}% |`,
    );
  }
  const replayed = median(times.get('replay() (rateLimit: false)')!);
  const share = bare / replayed;
  const mibps = (RECORDS * 1034) / 1_048_576 / replayed;
  console.log(
    `guard: replay() at ${(share * 100).toFixed(0)}% of the bare loop (goal >= 90%): ${share >= 0.9 ? 'ok' : 'MISSED'}`,
  );
  console.log(`guard: replay() ${mibps.toFixed(1)} MiB/s (goal >= 30): ${mibps >= 30 ? 'ok' : 'MISSED'}`);

  console.log(`\npeak memory, ${MEMORY_RECORDS} generated 1 KiB records, each case in a process of its own:`);
  const child = fileURLToPath(new URL('./memory-child.mjs', import.meta.url));
  for (const mode of ['ok', 'missing'] as const) {
    const s = await startSink(mode);
    try {
      const out = spawnSync(process.execPath, [child], {
        env: { ...process.env, MEMORY_ENDPOINT: s.endpoint, MEMORY_RECORDS: String(MEMORY_RECORDS) },
        encoding: 'utf8',
        timeout: 600_000,
      });
      const line = out.stdout.trim().split('\n').at(-1) ?? '';
      const r = JSON.parse(line) as {
        maxRssMB: number;
        sent: number;
        read: number;
        stoppedBy?: string;
        seconds: number;
      };
      console.log(
        `${mode === 'ok' ? 'every request acknowledged' : 'every request refused (stream not found)'}: peak RSS ${r.maxRssMB.toFixed(0)} MB, ` +
          `${r.read} read, ${r.sent} sent in ${r.seconds.toFixed(1)} s${r.stoppedBy ? `, stopped: ${r.stoppedBy}` : ''} ` +
          `(goal < 200 MB: ${r.maxRssMB < 200 ? 'ok' : 'MISSED'})`,
      );
    } finally {
      s.stop();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
