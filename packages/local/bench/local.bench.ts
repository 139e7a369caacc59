// Measures start-up and stop of the stand-ins and the overhead of the fault proxy. Run: pnpm bench
import { CreateStreamCommand, ListStreamsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createLocalClients } from '../src/clients.js';
import { startFaultProxy } from '../src/fault-proxy.js';
import { uniqueName } from '../src/names.js';
import { startLocalAws } from '../src/start.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const time = async (fn: () => Promise<unknown>) => {
  const started = performance.now();
  await fn();
  return performance.now() - started;
};

const rows: [string, string][] = [];
for (const [label, options] of [
  ['startLocalAws() both, until ready', {}],
  ['startLocalAws({ dynamodb: false }), until ready', { dynamodb: false }],
] as const) {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < 3; i++) {
    let aws: Awaited<ReturnType<typeof startLocalAws>> | undefined;
    starts.push(await time(async () => (aws = await startLocalAws(options))));
    stops.push(await time(() => aws?.stop() ?? Promise.resolve()));
  }
  rows.push([`${label} (median of 3)`, `${Math.round(median(starts))} ms`]);
  rows.push([`stop() after it (median of 3)`, `${Math.round(median(stops))} ms`]);
}

const aws = await startLocalAws({ dynamodb: false });
try {
  const proxy = await startFaultProxy({ target: aws.endpoints.kinesis ?? '', seed: 1 });
  const direct = aws.clients.kinesis;
  const via = createLocalClients({ region: aws.region, kinesis: proxy.endpoint }).kinesis;
  const calls = async (client: typeof direct) => {
    const out: number[] = [];
    for (let i = 0; i < 300; i++)
      out.push(await time(() => client.send(new ListStreamsCommand({ Limit: 1 }))));
    return median(out);
  };
  await calls(direct);
  await calls(via);
  const [d, v] = [await calls(direct), await calls(via)];
  rows.push(['ListStreams latency direct (median of 300)', `${d.toFixed(2)} ms`]);
  rows.push(['ListStreams latency through the proxy, no rules (median of 300)', `${v.toFixed(2)} ms`]);

  const batch = Array.from({ length: 500 }, (_, i) => ({
    Data: Buffer.alloc(1024, i % 256),
    PartitionKey: `k${i}`,
  }));
  const putRate = async (client: typeof direct) => {
    const stream = uniqueName('bench');
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
    let records = 0;
    const ms = await time(async () => {
      for (let i = 0; i < 6; i++) {
        const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
        records += batch.length - (out.FailedRecordCount ?? 0);
      }
    });
    return (records / ms) * 1000;
  };
  rows.push(['PutRecords 500 x 1 KiB direct (6 batches)', `${Math.round(await putRate(direct))} records/s`]);
  rows.push([
    'PutRecords 500 x 1 KiB through the proxy, no rules',
    `${Math.round(await putRate(via))} records/s`,
  ]);
  proxy.setRules([{ operation: 'PutRecords', fault: 'partial', probability: 1, entryFailureRate: 0.1 }]);
  rows.push([
    'PutRecords through the proxy, partial on every batch (10% failed)',
    `${Math.round(await putRate(via))} records/s written`,
  ]);
  via.destroy();
  await proxy.stop();
} finally {
  await aws.stop();
}

console.log('| measure | value |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
