import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvalidArchiveOptionError } from './errors.js';
import { type Item, isChunkItem, isExpired, isQuarantineItem } from './item-codec.js';

/** Filters shared by every read. */
export interface ReadFilterOptions {
  /** Only records that arrived at or after this time. */
  from?: Date;
  /** Only records that arrived before this time. */
  to?: Date;
  /** Return tombstones (deletion markers, `tombstone: true`) too. Default false. */
  includeTombstones?: boolean;
}

/**
 * A FilterExpression that keeps only visible head items, with its values for one request. "Now" (for the TTL) is
 * the time of each request: a read that lasts hours never returns an item that expired on the way.
 */
export interface Filter {
  expression: string;
  /** The expression's values, with `:now` = `nowSeconds`. */
  values(nowSeconds: number): Record<string, AttributeValue>;
  /**
   * The same test, done again on the client with the `nowSeconds` of the request that returned the item
   * (DynamoDB Local and AWS both honour the expression; this is a guard).
   */
  accepts(item: Item, nowSeconds: number): boolean;
}

function checkDate(name: string, value: Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidArchiveOptionError(name, value, 'a valid Date');
  }
  return value.getTime();
}

/** The current time in epoch seconds, as the TTL compares it. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Builds the filter that hides chunk and quarantine items, expired items (past `expireAfter`, even before DynamoDB
 * deletes them), tombstones unless asked, and records outside the time window.
 */
export function buildFilter(options: ReadFilterOptions): Filter {
  const from = checkDate('from', options.from);
  const to = checkDate('to', options.to);
  const parts = [
    'attribute_not_exists(chunkIndex)',
    'attribute_not_exists(quarantinedAt)',
    '(attribute_not_exists(expireAfter) OR expireAfter > :now)',
  ];
  const fixed: Record<string, AttributeValue> = {};
  if (!options.includeTombstones) parts.push('attribute_not_exists(tombstone)');
  if (from !== undefined) {
    parts.push('approximateArrivalTimestamp >= :from');
    fixed[':from'] = { N: String(from) };
  }
  if (to !== undefined) {
    parts.push('approximateArrivalTimestamp < :to');
    fixed[':to'] = { N: String(to) };
  }
  return {
    expression: parts.join(' AND '),
    values: (now) => ({ ...fixed, ':now': { N: String(now) } }),
    accepts(item, now) {
      if (isChunkItem(item) || isQuarantineItem(item) || isExpired(item, now)) return false;
      if (!options.includeTombstones && item.tombstone?.BOOL) return false;
      const arrival = Number(item.approximateArrivalTimestamp?.N);
      if (from !== undefined && !(arrival >= from)) return false;
      if (to !== undefined && !(arrival < to)) return false;
      return true;
    },
  };
}

/** Checks a `limit` option: a positive integer or undefined. */
export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidArchiveOptionError('limit', limit, 'a positive integer');
  return limit;
}

/** Checks a `pageSize` option: a positive integer (items evaluated per request, DynamoDB's `Limit`) or undefined. */
export function checkPageSize(pageSize: number | undefined): number {
  if (pageSize === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new InvalidArchiveOptionError('pageSize', pageSize, 'a positive integer');
  return pageSize;
}
