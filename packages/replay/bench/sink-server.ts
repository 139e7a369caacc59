/**
 * A Kinesis stand-in for the benchmarks that answers at once, in a process of its own: `PutRecords` acknowledges
 * every entry (or, with `SINK_MODE=missing`, refuses every request with `ResourceNotFoundException`), and
 * `ListShards` lists 64 shards. It measures the client, not a service. Prints `port <n>` once it listens on
 * 127.0.0.1.
 */
import { createServer } from 'node:http';

const SHARDS = 64;
const mode = process.env.SINK_MODE ?? 'ok';
const max = 2n ** 128n - 1n;
const shards = Array.from({ length: SHARDS }, (_, i) => ({
  ShardId: `shardId-${String(i).padStart(12, '0')}`,
  HashKeyRange: {
    StartingHashKey: ((max / BigInt(SHARDS)) * BigInt(i) + (i === 0 ? 0n : 1n)).toString(),
    EndingHashKey: i === SHARDS - 1 ? max.toString() : ((max / BigInt(SHARDS)) * BigInt(i + 1)).toString(),
  },
  SequenceNumberRange: { StartingSequenceNumber: '1' },
}));
let sequence = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (target.endsWith('.ListShards')) return send(200, { Shards: shards });
    if (!target.endsWith('.PutRecords')) return send(400, { __type: 'UnknownOperationException' });
    if (mode === 'missing') {
      return send(400, { __type: 'ResourceNotFoundException', message: 'Stream bench not found' });
    }
    // the entries are counted, not decoded: what a service answers does not depend on the payload
    const body = Buffer.concat(chunks).toString('utf8');
    let n = 0;
    for (let i = body.indexOf('"PartitionKey"'); i !== -1; i = body.indexOf('"PartitionKey"', i + 1)) n++;
    const records = new Array(n);
    for (let i = 0; i < n; i++)
      records[i] = { SequenceNumber: String(++sequence), ShardId: 'shardId-000000000000' };
    send(200, { FailedRecordCount: 0, Records: records });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`port ${typeof address === 'object' && address ? address.port : 0}\n`);
});
