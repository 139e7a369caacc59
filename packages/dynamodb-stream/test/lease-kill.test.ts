import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { LeaseTable, SHARD_END } from '../src/index.js';
import { onLines } from './child-output.js';
import { FakeStreams } from './fake-streams.js';
import { serveFakeStreams } from './fake-streams-server.js';
import { checkDelivered, type Delivery, shardName, sleep, waitFor, writer } from './lease-helpers.js';

const { clients, endpoints } = localAws();
afterAll(() => clients.destroy());

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/kill';
const SHARDS = 32;
const LEASE_MS = 2_000;

interface Timed extends Delivery {
  at: number;
}

describe('leases: a consumer process killed by SIGKILL', () => {
  it("3 processes over 32 shards and a split, one killed: its shards are taken over within the lease time, every change delivered, in order per key, repeats only of the dead worker's last changes", async () => {
    const fake = new FakeStreams();
    for (let i = 0; i < SHARDS; i++) fake.addShard(shardName(i));
    const w = writer(fake);
    const server = await serveFakeStreams(fake);
    const tableName = uniqueName('leases');
    await LeaseTable.create(clients.dynamodb, tableName);
    const child = fileURLToPath(new URL('./lease-child.ts', import.meta.url));
    const deliveries: Timed[] = [];
    const stderr = new Map<string, string>();
    const procs = new Map<string, ChildProcess>();
    const exited = new Map<string, Promise<number | null>>();
    const start = (worker: string) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child], {
        env: {
          ...process.env,
          KA_REGION: endpoints.region,
          KA_DYNAMODB: endpoints.dynamodb!,
          KA_STREAMS: server.endpoint,
          KA_STREAM_ARN: ARN,
          KA_LEASE_TABLE: tableName,
          KA_WORKER: worker,
          KA_LEASE_MS: String(LEASE_MS),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      onLines(proc.stdout, (line) => {
        const [tag, who, shardId, sequenceNumber, key, v] = line.split(' ');
        if (tag !== 'rec') return;
        deliveries.push({
          worker: who!,
          shardId: shardId!,
          sequenceNumber: sequenceNumber!,
          key: key!,
          v: Number(v),
          at: Date.now(),
        });
      });
      proc.stderr?.on('data', (d) => stderr.set(worker, (stderr.get(worker) ?? '') + String(d)));
      procs.set(worker, proc);
      exited.set(worker, new Promise((resolve) => proc.on('exit', (code) => resolve(code))));
    };
    const putAll = (round: number) => {
      for (let i = 1; i < SHARDS; i++) w.put(shardName(i), shardName(i), 2);
      w.put(round < 5 ? shardName(0) : 'shard-32', shardName(0), 2);
      if (round >= 5) w.put('shard-33', 'shard-33', 2);
    };
    try {
      for (const worker of ['w0', 'w1', 'w2']) start(worker);
      let round = 0;
      const writeFor = async (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          if (round === 5) {
            fake.shards.get(shardName(0))!.closed = true;
            fake.addShard('shard-32', { parentShardId: shardName(0) });
            fake.addShard('shard-33', { parentShardId: shardName(0) });
          }
          putAll(round++);
          await sleep(100);
        }
      };
      // Until all three deliver, and a while more for the share to even out.
      const allDeliver = () => ['w0', 'w1', 'w2'].every((id) => deliveries.some((d) => d.worker === id));
      for (let i = 0; i < 600 && !allDeliver(); i++) await writeFor(100);
      expect(allDeliver()).toBe(true);
      // The kill comes once the share evened out: w1 owns about a third of the leases.
      const table = new LeaseTable(clients.dynamodb, tableName, ARN);
      const owned = async () => (await table.list()).filter((l) => l.owner === 'w1').length;
      for (let i = 0; i < 100 && (await owned()) < 8; i++) await writeFor(300);
      expect(await owned()).toBeGreaterThanOrEqual(8);
      await writeFor(500);
      const killedAt = Date.now();
      procs.get('w1')!.kill('SIGKILL');
      expect(await exited.get('w1')).toBe(null);
      // Its checkpoints as it died (nobody takes its leases before they expire).
      const atDeath = new Map(
        (await table.list()).filter((l) => l.owner === 'w1').map((l) => [l.shardId, l.checkpoint]),
      );
      // The open shards whose leases w1 held.
      const orphans = new Set(
        [...atDeath].filter(([, checkpoint]) => checkpoint !== SHARD_END).map(([id]) => id),
      );
      expect(orphans.size).toBeGreaterThanOrEqual(7);
      await writeFor(LEASE_MS * 3);
      await waitFor(
        () => w.expected.every((e) => deliveries.some((d) => d.key === e.key && d.v === e.v)),
        30_000,
      );

      // Each orphan shard was read again by a survivor within the lease time (plus a renewal and a read).
      const takeover = [...orphans].map((shardId) => {
        const first = deliveries.find((d) => d.shardId === shardId && d.worker !== 'w1' && d.at > killedAt);
        return (first?.at ?? Number.POSITIVE_INFINITY) - killedAt;
      });
      console.log(
        `lease takeover after SIGKILL: ${Math.max(...takeover)} ms for ${orphans.size} shards (lease ${LEASE_MS} ms)`,
      );
      expect(Math.max(...takeover)).toBeLessThan(LEASE_MS + 6_000);

      const duplicates = checkDelivered(w.expected, deliveries);
      // Repeats are only of changes the dead worker delivered (after its last checkpoint), in its shards.
      const firstBy = new Map<string, Timed>();
      const repeats: Timed[] = [];
      for (const d of deliveries) {
        const k = `${d.key}=${d.v}`;
        if (firstBy.has(k)) repeats.push(firstBy.get(k)!);
        else firstBy.set(k, d);
      }
      expect(repeats.length).toBe(duplicates);
      const afterCheckpoint = (r: Timed) => {
        if (r.worker !== 'w1' || !atDeath.has(r.shardId)) return false;
        const checkpoint = atDeath.get(r.shardId);
        return checkpoint === undefined || BigInt(r.sequenceNumber) > BigInt(checkpoint);
      };
      expect(repeats.filter((r) => !afterCheckpoint(r))).toEqual([]);
      console.log(
        `lease kill test: ${deliveries.length} deliveries, ${duplicates} repeats, all after w1's last checkpoints`,
      );
    } finally {
      for (const [worker, proc] of procs) if (worker !== 'w1') proc.kill('SIGTERM');
      const codes = await Promise.all(['w0', 'w2'].map((id) => exited.get(id)));
      await server.close();
      expect({ codes, stderr: [...stderr.values()].join('') }).toEqual({ codes: [0, 0], stderr: '' });
    }
  }, 120_000);
});
