import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { forEachLimit } from '@kinesis-archive/core';
import type { CheckpointStore } from './checkpoint-store.js';
import { type Lease, LeaseTable, SHARD_END } from './lease-table.js';
import type { ShardState } from './shard-state.js';
import { lineageGate } from './shard-tracker.js';

/** Lease writes of one tick in flight at once. */
const PARALLEL_WRITES = 16;

/** Options of {@link DynamoDBStreamOptions.leases}: share one stream between consumers in several processes. */
export interface LeaseOptions {
  /** A configured SDK v3 DynamoDB client, for the lease table. */
  dynamodb: Pick<DynamoDBClient, 'send'>;
  /** The lease table (partition key `streamArn`, sort key `shardId`), created on the first start unless it exists. */
  tableName: string;
  /** This consumer's id, unique among the consumers sharing the stream (e.g. host name and process id). */
  workerId: string;
  /** A lease not renewed for this long is taken over by another worker, in ms. Default 10,000. */
  leaseDurationMs?: number;
  /** How often leases are renewed and the share of each worker balanced, in ms. Default a third of the duration. */
  renewIntervalMs?: number;
  /** Create the lease table on the first start when it does not exist (default `true`). */
  createTable?: boolean;
}

/** What the lease manager tells its consumer. */
export interface LeaseHooks {
  /** A lease was taken: the shard's progress is its checkpoint, read from there. */
  taken(shardId: string, lease: Lease): void;
  /** A lease was lost (another worker took it): its shard stops before its next delivery. */
  lost(shardId: string): void;
  /**
   * Another worker asked for the lease: resolves once the shard's worker stopped (its delivery in flight settled)
   * and its checkpoint is written; the lease is then handed over.
   */
  handOver(shardId: string): Promise<void>;
}

/** Counts of a lease manager's moves, for tests and benchmarks. */
export interface LeaseCounts {
  taken: number;
  stolen: number;
  lost: number;
}

/**
 * Takes, renews, balances and releases the shard leases of one worker, the KCL's way: a lease is a counter its
 * owner bumps at every renewal; a lease whose counter stood still for the lease time (by this worker's clock) is
 * expired and may be taken; free and expired leases are taken up to an even share, and when none is left the most
 * loaded worker is asked for one, which it hands over after its last checkpoint (nothing is read twice). A child's lease is taken only once its parent is drained (checkpoint
 * {@link SHARD_END}); the lease of a drained shard is deleted once its children have checkpoints.
 */
export class LeaseManager {
  readonly workerId: string;
  readonly durationMs: number;
  readonly renewIntervalMs: number;
  readonly counts: LeaseCounts = { taken: 0, stolen: 0, lost: 0 };
  private readonly options: LeaseOptions;
  private table: LeaseTable;
  private readonly held = new Map<string, { counter: number; renewedAt: number }>();
  /** Held leases being handed over: not read any more, still renewed until the handover. */
  /** Held leases being handed over (to whom; `ready` once the shard stopped and its checkpoint is written). */
  private readonly handing = new Map<string, { to: string; ready: boolean }>();
  private readonly seen = new Map<string, { counter: number; owner: string | undefined; since: number }>();
  private ready = false;

  constructor(options: LeaseOptions, streamArn: string) {
    this.options = options;
    this.workerId = options.workerId;
    this.durationMs = options.leaseDurationMs ?? 10_000;
    this.renewIntervalMs = options.renewIntervalMs ?? Math.max(1, Math.floor(this.durationMs / 3));
    this.table = new LeaseTable(options.dynamodb, options.tableName, streamArn);
  }

  /** A new stream: the leases of the old one are not this one's. */
  follow(streamArn: string): void {
    this.table = new LeaseTable(this.options.dynamodb, this.options.tableName, streamArn);
    this.held.clear();
    this.seen.clear();
  }

  /** True while this worker holds the shard's lease, renewed it within the lease time, and is not handing it over. */
  holds(shardId: string): boolean {
    const lease = this.held.get(shardId);
    if (lease === undefined || this.handing.has(shardId)) return false;
    return Date.now() - lease.renewedAt < this.durationMs;
  }

  /** The shards whose leases this worker holds and may read now. */
  heldShards(): string[] {
    return [...this.held.keys()].filter((id) => this.holds(id));
  }

  /** A checkpoint store writing each held shard's progress to its lease. */
  store(): CheckpointStore {
    const written = new Map<string, string>();
    return {
      load: () => undefined,
      save: async (state: ShardState) => {
        const moved: [string, string][] = [];
        for (const [id, p] of Object.entries(state)) {
          if (!this.held.has(id)) continue;
          const checkpoint = p.retired ? SHARD_END : p.sequenceNumber;
          if (checkpoint !== undefined && written.get(id) !== checkpoint) moved.push([id, checkpoint]);
        }
        await forEachLimit(moved, PARALLEL_WRITES, async ([id, checkpoint]) => {
          if (await this.table.checkpoint(id, this.workerId, checkpoint)) written.set(id, checkpoint);
          else this.drop(id);
        });
      },
    };
  }

  /** One round: renews the held leases, reads them all into `state`, cleans up, and takes this worker's share. */
  async tick(state: ShardState, streamArn: string, hooks: LeaseHooks): Promise<void> {
    if (!this.ready) {
      if (this.options.createTable ?? true)
        await LeaseTable.create(this.options.dynamodb, this.options.tableName);
      this.ready = true;
    }
    // Renewals in parallel: a tick must stay well within the lease time however many leases are held. A lease
    // being handed over is renewed until it is ready, then transferred here, so the two writes never race.
    await forEachLimit([...this.held], PARALLEL_WRITES, async ([id, lease]) => {
      const handover = this.handing.get(id);
      if (handover?.ready) {
        await this.table.transfer(id, this.workerId, lease.counter, handover.to);
        this.held.delete(id);
        this.handing.delete(id);
        return;
      }
      const next = await this.table.renew(id, this.workerId, lease.counter);
      if (next === undefined) {
        this.drop(id);
        hooks.lost(id);
        return;
      }
      this.held.set(id, { counter: next.counter, renewedAt: Date.now() });
      const to = next.pendingOwner;
      if (to !== undefined && to !== this.workerId && !this.handing.has(id)) {
        this.handing.set(id, { to, ready: false });
        void this.handOver(id, hooks);
      }
    });
    let leases = await this.table.list();
    const known = new Set(leases.map((l) => l.shardId));
    // A child with a checkpoint was read after its parent drained; the parent's lease may be gone already.
    const drained = new Set(
      leases.filter((l) => l.parentShardId && l.checkpoint !== undefined).map((l) => l.parentShardId!),
    );
    let created = false;
    for (const [id, p] of Object.entries(state)) {
      if (known.has(id) || p.retired) continue;
      if (drained.has(id)) {
        p.retired = true;
        continue;
      }
      await this.table.ensure(id, p.parentShardId);
      created = true;
    }
    if (created) leases = await this.table.list();
    const now = Date.now();
    for (const lease of leases) {
      const before = this.seen.get(lease.shardId);
      if (!before || before.counter !== lease.counter || before.owner !== lease.owner) {
        this.seen.set(lease.shardId, { counter: lease.counter, owner: lease.owner, since: now });
      }
      if (this.held.has(lease.shardId)) continue;
      let p = state[lease.shardId];
      if (!p) {
        p = { streamArn };
        if (lease.parentShardId) p.parentShardId = lease.parentShardId;
        state[lease.shardId] = p;
      }
      if (lease.checkpoint === SHARD_END) p.retired = true;
      else if (lease.checkpoint !== undefined) p.sequenceNumber = lease.checkpoint;
    }
    // A drained shard's lease is released once its SHARD_END checkpoint is written: it needs no owner.
    await forEachLimit(
      leases.filter((l) => l.checkpoint === SHARD_END && this.held.has(l.shardId)),
      PARALLEL_WRITES,
      async (l) => {
        const held = this.held.get(l.shardId);
        this.held.delete(l.shardId);
        this.handing.delete(l.shardId);
        if (held) await this.table.release(l.shardId, this.workerId, held.counter);
      },
    );
    await this.cleanUp(leases);
    await this.balance(leases, state, hooks, now);
  }

  /** Releases every held lease (after the last checkpoint was written). */
  async releaseAll(): Promise<void> {
    for (const [id, lease] of [...this.held]) {
      this.held.delete(id);
      this.handing.delete(id);
      await this.table.release(id, this.workerId, lease.counter);
    }
  }

  private drop(shardId: string): void {
    this.handing.delete(shardId);
    if (this.held.delete(shardId)) this.counts.lost++;
  }

  /** Stops the shard and writes its checkpoint; the next tick transfers the lease. */
  private async handOver(shardId: string, hooks: LeaseHooks): Promise<void> {
    try {
      await hooks.handOver(shardId);
      const handover = this.handing.get(shardId);
      if (handover) handover.ready = true;
    } catch {
      // Not ready: the shard reads on, and the next renewal that sees the request tries again.
      this.handing.delete(shardId);
    }
  }

  private async cleanUp(leases: readonly Lease[]): Promise<void> {
    for (const lease of leases) {
      if (lease.checkpoint !== SHARD_END) continue;
      const children = leases.filter((l) => l.parentShardId === lease.shardId);
      if (children.length > 0 && children.every((c) => c.checkpoint !== undefined)) {
        await this.table.remove(lease.shardId);
      }
    }
  }

  private expired(lease: Lease, now: number): boolean {
    const seen = this.seen.get(lease.shardId);
    return seen !== undefined && now - seen.since >= this.durationMs;
  }

  private async balance(leases: readonly Lease[], state: ShardState, hooks: LeaseHooks, now: number) {
    const eligible = leases.filter(
      (l) => l.checkpoint !== SHARD_END && lineageGate(state, l.shardId) === 'readable',
    );
    const perOwner = new Map<string, Lease[]>();
    for (const lease of eligible) {
      if (!lease.owner || lease.owner === this.workerId || this.expired(lease, now)) continue;
      perOwner.set(lease.owner, [...(perOwner.get(lease.owner) ?? []), lease]);
    }
    const workers = perOwner.size + 1;
    const target = Math.ceil(eligible.length / workers);
    // Only open leases count toward the share (a drained one held until it is released does not).
    const open = new Set(eligible.map((l) => l.shardId));
    let mine = [...this.held.keys()].filter((id) => open.has(id)).length;
    const free = eligible.filter(
      (l) => !this.held.has(l.shardId) && (!l.owner || l.owner === this.workerId || this.expired(l, now)),
    );
    // Leases handed over to this worker (it owns them in the table) and expired leases it asked for are its own:
    // taken whatever the share (a worker above it is asked for leases in turn).
    const own = free.filter((l) => l.owner === this.workerId || l.pendingOwner === this.workerId);
    const others = free.filter((l) => !own.includes(l));
    // Leases asked for and not handed over yet count as this worker's: it does not ask for more meanwhile.
    mine += eligible.filter(
      (l) => l.pendingOwner === this.workerId && l.owner !== this.workerId && !own.includes(l),
    ).length;
    const wanted = [...own, ...others.slice(0, Math.max(0, target - mine - own.length))];
    await forEachLimit(wanted, PARALLEL_WRITES, async (lease) => {
      if (await this.takeLease(lease, hooks)) mine++;
    });
    if (mine >= target || free.length > 0) return;
    // Nothing free: ask the most loaded workers for leases, while they hold more than their share.
    const asked = eligible.filter((l) => l.pendingOwner !== undefined).map((l) => l.shardId);
    const skip = new Set(asked);
    while (mine < target) {
      let richest: Lease[] = [];
      for (const owned of perOwner.values()) {
        const open = owned.filter((l) => !skip.has(l.shardId));
        if (open.length > richest.length) richest = open;
      }
      if (!(richest.length > target || (richest.length === target && mine < target - 1))) return;
      const lease = richest.at(-1)!;
      skip.add(lease.shardId);
      perOwner.set(
        lease.owner!,
        (perOwner.get(lease.owner!) ?? []).filter((l) => l !== lease),
      );
      if (await this.table.ask(lease, this.workerId)) {
        this.counts.stolen++;
        mine++;
      }
    }
  }

  private async takeLease(lease: Lease, hooks: LeaseHooks): Promise<boolean> {
    const counter = await this.table.take(lease, this.workerId);
    if (counter === undefined) return false;
    this.held.set(lease.shardId, { counter, renewedAt: Date.now() });
    this.counts.taken++;
    hooks.taken(lease.shardId, lease);
    return true;
  }
}
