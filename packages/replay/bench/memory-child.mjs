/**
 * One memory case of the sink bench, in a process of its own (plain node on the built package, as a user runs
 * it) so that its peak RSS is its own: replays MEMORY_RECORDS (default 1,000,000) generated 1 KiB records into
 * the sink at MEMORY_ENDPOINT, and prints a JSON line with the result and `maxRssMB`.
 */
import { createLocalClients } from '@kinesis-archive/local';
import { replay } from '../dist/index.js';
import { generate } from './generate.mjs';

const n = Number(process.env.MEMORY_RECORDS ?? 1_000_000);
const clients = createLocalClients({ region: 'us-east-1', kinesis: process.env.MEMORY_ENDPOINT });
const t0 = performance.now();
const result = await replay({
  source: generate(n),
  kinesis: clients.kinesis,
  streamName: 'bench',
  rateLimit: false,
  ...(process.env.MEMORY_WINDOW ? { maxUnsettledRecords: Number(process.env.MEMORY_WINDOW) } : {}),
  ...(process.env.MEMORY_BUFFER ? { writer: { maxBufferedRecords: Number(process.env.MEMORY_BUFFER) } } : {}),
  checkpoint: { load: () => undefined, save: () => undefined },
});
const seconds = (performance.now() - t0) / 1000;
clients.destroy();
process.stdout.write(
  `${JSON.stringify({
    read: result.read,
    sent: result.sent,
    unsent: result.unsent.length,
    stoppedBy: result.stoppedBy?.message,
    seconds,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
