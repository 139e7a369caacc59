import type { ArchiveMode } from '@kinesis-archive/archive';
import type { StartingPosition } from '../event-source/types.js';
import { UsageError } from './errors.js';

/** `--from trim-horizon|latest|<ISO timestamp>`. */
export function parseStartingPosition(value: string): StartingPosition {
  const lower = value.toLowerCase();
  if (lower === 'trim-horizon' || lower === 'trim_horizon') return 'TRIM_HORIZON';
  if (lower === 'latest') return 'LATEST';
  const date = new Date(/^\d{4}-\d{2}-\d{2}/.test(value) ? value : Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(
      `--from expects trim-horizon, latest or an ISO timestamp, got ${JSON.stringify(value)}`,
    );
  }
  return { timestamp: date };
}

/** An ISO 8601 date-time (or anything `Date` reads unambiguously with a year, month and day). */
export function parseDate(option: string, value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`${option} expects an ISO timestamp, got ${JSON.stringify(value)}`);
  }
  return date;
}

/** A whole number within bounds. */
export function parseInteger(option: string, value: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${option} expects a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** `--mode ALL|LATEST` (any case). */
export function parseMode(value: string): ArchiveMode {
  const upper = value.toUpperCase();
  if (upper !== 'ALL' && upper !== 'LATEST') {
    throw new UsageError(`--mode expects ALL or LATEST, got ${JSON.stringify(value)}`);
  }
  return upper;
}
