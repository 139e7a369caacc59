// A tiny in-memory DynamoDB fake for TableReplica tests that need what DynamoDB Local cannot do on demand (a Scan
// that fails, pages slowly, or writes to the stream while it runs). Test-only: DescribeTable and Scan.
import { type AttributeValue, DescribeTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { TableReplicaOptions } from '../src/index.js';

export type Item = Record<string, AttributeValue>;

/** One Scan request, as the fake saw it. */
export interface ScanCall {
  segment: number;
  totalSegments: number;
  /** Index of the page answered (0 for the first page of the segment). */
  page: number;
  signal: AbortSignal | undefined;
}

export interface SendOptions {
  abortSignal?: AbortSignal;
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

export class FakeDynamoDB {
  readonly tableName: string;
  streamArn: string;
  viewType = 'NEW_AND_OLD_IMAGES';
  /** The pages of each Scan segment (`pages.get(segment)`); a segment not listed answers one empty page. */
  readonly pages = new Map<number, Item[][]>();
  /** Called before a Scan page is answered: may throw (the Scan fails), wait or write to the stream. */
  onScan: ((call: ScanCall) => void | Promise<void>) | undefined;
  readonly calls: { op: string; segment?: number }[] = [];

  constructor(tableName: string, streamArn: string) {
    this.tableName = tableName;
    this.streamArn = streamArn;
  }

  /** The table holds `items`, all in segment 0, one page. */
  setItems(items: Item[]): void {
    this.pages.clear();
    this.pages.set(0, [items]);
  }

  /** As the `dynamodb` option of a {@link TableReplica}. */
  get client(): TableReplicaOptions['dynamodb'] {
    return this as unknown as TableReplicaOptions['dynamodb'];
  }

  async send(command: unknown, options?: SendOptions): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof DescribeTableCommand) {
      this.calls.push({ op: 'DescribeTable' });
      return {
        Table: {
          TableName: this.tableName,
          TableStatus: 'ACTIVE',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          StreamSpecification: { StreamEnabled: true, StreamViewType: this.viewType },
          LatestStreamArn: this.streamArn,
        },
      };
    }
    if (command instanceof ScanCommand) return this.scan(command, options?.abortSignal);
    throw new Error(`FakeDynamoDB: unsupported command ${(command as object)?.constructor?.name}`);
  }

  private async scan(command: ScanCommand, signal: AbortSignal | undefined): Promise<unknown> {
    const segment = command.input.Segment ?? 0;
    const totalSegments = command.input.TotalSegments ?? 1;
    this.calls.push({ op: 'Scan', segment });
    if (signal?.aborted) throw abortError();
    // A segment's pages are chained by the key of the last item of the previous page.
    const pages = this.pages.get(totalSegments === 1 ? 0 : segment) ?? [[]];
    const start = command.input.ExclusiveStartKey?.id?.S;
    let page = 0;
    if (start !== undefined) {
      page = pages.findIndex((p) => p.at(-1)?.id?.S === start) + 1;
      if (page <= 0) throw new Error(`FakeDynamoDB: unknown ExclusiveStartKey ${start}`);
    }
    await this.onScan?.({ segment, totalSegments, page, signal });
    if (signal?.aborted) throw abortError();
    const items = pages[page] ?? [];
    const more = page + 1 < pages.length;
    return {
      Items: items,
      Count: items.length,
      ScannedCount: items.length,
      ...(more ? { LastEvaluatedKey: { id: items.at(-1)!.id! } } : {}),
    };
  }
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(abortError());
      },
      { once: true },
    );
  });
}
