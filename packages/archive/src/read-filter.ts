import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvalidArchiveOptionError } from './errors.js';
import { type Item, isChunkItem, isExpired } from './item-codec.js';

/** Filters shared by every read. */
export interface ReadFilterOptions {
  /** Only records that arrived at or after this time. */
  from?: Date;
  /** Only records that arrived before this time. */
  to?: Date;
  /** Return tombstones (deletion markers, `tombstone: true`) too. Default false. */
  includeTombstones?: boolean;
}

/** A FilterExpression plus values that keep only visible head items. */
export interface Filter {
  expression: string;
  values: Record<string, AttributeValue>;
  /** The same test, done again on the client (DynamoDB Local and AWS both honour the expression; this is a guard). */
  accepts(item: Item): boolean;
}

function checkDate(name: string, value: Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidArchiveOptionError(name, value, 'a valid Date');
  }
  return value.getTime();
}

/**
 * Builds the filter that hides chunk items, expired items (past `expireAfter`, even before DynamoDB deletes them),
 * tombstones unless asked, and records outside the time window.
 */
export function buildFilter(options: ReadFilterOptions, nowSeconds = Math.floor(Date.now() / 1000)): Filter {
  const from = checkDate('from', options.from);
  const to = checkDate('to', options.to);
  const parts = [
    'attribute_not_exists(chunkIndex)',
    '(attribute_not_exists(expireAfter) OR expireAfter > :now)',
  ];
  const values: Record<string, AttributeValue> = { ':now': { N: String(nowSeconds) } };
  if (!options.includeTombstones) parts.push('attribute_not_exists(tombstone)');
  if (from !== undefined) {
    parts.push('approximateArrivalTimestamp >= :from');
    values[':from'] = { N: String(from) };
  }
  if (to !== undefined) {
    parts.push('approximateArrivalTimestamp < :to');
    values[':to'] = { N: String(to) };
  }
  return {
    expression: parts.join(' AND '),
    values,
    accepts(item) {
      if (isChunkItem(item) || isExpired(item, nowSeconds)) return false;
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
