/**
 * Partial failures the way AWS returns them: Kinesis `PutRecords` answers some entries as failed (results aligned
 * with the request), DynamoDB `BatchWriteItem` returns some items as `UnprocessedItems`. Only the other entries
 * reach the stand-in.
 */

type Json = Record<string, unknown>;

/** How one partial failure is carried out. */
export interface PartialPlan {
  /** Body to forward to the stand-in, or `undefined` when every entry fails and nothing is forwarded. */
  forwardBody: Buffer | undefined;
  /** How many entries (items) are failed by the proxy. */
  failedEntries: number;
  /**
   * The answer to the client built from the stand-in's JSON answer to `forwardBody` (`undefined` when nothing was
   * forwarded); returns `undefined` when that answer has an unexpected shape, so it is passed through untouched.
   */
  merge(upstream: Json | undefined): Json | undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a request body as a JSON object, or `undefined`. */
export function parseJsonObject(body: Buffer): Json | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Which of `count` entries fail: each with chance `rate`, and at least one. */
function chooseFailures(count: number, rate: number, random: () => number): boolean[] {
  const failed = Array.from({ length: count }, () => random() < rate);
  if (!failed.includes(true)) failed[Math.floor(random() * count)] = true;
  return failed;
}

/** Whether a `partial` fault can apply to this request (the operation and a well-formed, non-empty body). */
export function partialApplies(operation: string, request: Json | undefined): boolean {
  if (!request) return false;
  if (operation === 'PutRecords') return Array.isArray(request.Records) && request.Records.length > 0;
  if (operation === 'BatchWriteItem') {
    const items = request.RequestItems;
    return (
      isObject(items) &&
      Object.values(items).every(Array.isArray) &&
      Object.values(items).some((list) => (list as unknown[]).length > 0)
    );
  }
  return false;
}

/** Plans a partial failure of a `PutRecords` request. */
export function planPutRecords(
  request: Json,
  rate: number,
  random: () => number,
  errorCode: string,
): PartialPlan {
  const entries = request.Records as unknown[];
  const failed = chooseFailures(entries.length, rate, random);
  const kept = entries.filter((_, i) => !failed[i]);
  const stream = String(request.StreamName ?? request.StreamARN ?? 'the stream');
  const failure =
    errorCode === 'ProvisionedThroughputExceededException'
      ? {
          ErrorCode: errorCode,
          ErrorMessage: `Rate exceeded for shard in stream ${stream} (injected by the fault proxy).`,
        }
      : { ErrorCode: errorCode, ErrorMessage: `Internal service failure (injected by the fault proxy).` };
  return {
    forwardBody: kept.length > 0 ? Buffer.from(JSON.stringify({ ...request, Records: kept })) : undefined,
    failedEntries: entries.length - kept.length,
    merge(upstream) {
      let upstreamResults: unknown[] = [];
      if (upstream !== undefined) {
        if (!Array.isArray(upstream.Records) || upstream.Records.length !== kept.length) return undefined;
        upstreamResults = upstream.Records;
      }
      let next = 0;
      const results = entries.map((_, i) => (failed[i] ? { ...failure } : upstreamResults[next++]));
      const failedCount = results.filter((r) => isObject(r) && typeof r.ErrorCode === 'string').length;
      return { ...(upstream ?? {}), FailedRecordCount: failedCount, Records: results };
    },
  };
}

/** Plans a partial failure of a `BatchWriteItem` request. */
export function planBatchWriteItem(request: Json, rate: number, random: () => number): PartialPlan {
  const tables = Object.entries(request.RequestItems as Record<string, unknown[]>);
  const flat = tables.flatMap(([table, list]) => list.map((item) => ({ table, item })));
  const failed = chooseFailures(flat.length, rate, random);
  const group = (pick: (i: number) => boolean): Record<string, unknown[]> => {
    const out: Record<string, unknown[]> = {};
    flat.forEach(({ table, item }, i) => {
      if (!pick(i)) return;
      out[table] ??= [];
      out[table].push(item);
    });
    return out;
  };
  const kept = group((i) => !failed[i]);
  const unprocessed = group((i) => failed[i] === true);
  const keptCount = failed.filter((f) => !f).length;
  return {
    forwardBody: keptCount > 0 ? Buffer.from(JSON.stringify({ ...request, RequestItems: kept })) : undefined,
    failedEntries: flat.length - keptCount,
    merge(upstream) {
      const theirs = upstream?.UnprocessedItems ?? {};
      if (!isObject(theirs)) return undefined;
      const merged: Record<string, unknown[]> = {};
      for (const [table, list] of Object.entries(theirs)) {
        if (!Array.isArray(list)) return undefined;
        merged[table] = [...list];
      }
      for (const [table, list] of Object.entries(unprocessed))
        merged[table] = [...(merged[table] ?? []), ...list];
      return { ...(upstream ?? {}), UnprocessedItems: merged };
    },
  };
}
