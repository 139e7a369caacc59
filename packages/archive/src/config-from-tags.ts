import type { KinesisClient, Tag } from '@aws-sdk/client-kinesis';
import { ArchiveConfigError, InvalidArchiveOptionError } from './errors.js';
import type { ArchiveMode } from './types.js';

/** Tag that selects the archive mode of a stream: `all` or `latest`. */
export const MODE_TAG = 'StreamArchiveMode';
/** Tag that sets the TTL of archived items: `expireSeconds=N`. */
export const TTL_TAG = 'ArchiveTTL';
/** Default time a stream's configuration is cached: 5 minutes. */
export const DEFAULT_CONFIG_CACHE_MS = 300_000;
const MAX_CONFIG_CACHE_MS = 3_600_000;
const MAX_CACHED_STREAMS = 1_000;

/** An archive configuration read from a stream's tags. Undefined fields: the tag is not set. */
export interface ArchiveConfig {
  /** From `StreamArchiveMode`. */
  mode: ArchiveMode | undefined;
  /** From `ArchiveTTL` (`expireSeconds=N`). */
  ttlSeconds: number | undefined;
}

/** Options of {@link loadArchiveConfig}. */
export interface LoadArchiveConfigOptions {
  /** How long a stream's configuration is reused, in ms (default 5 minutes, at most 1 hour; 0 = no cache). */
  cacheTtlMs?: number;
}

interface Entry {
  expiresAt: number;
  value: Promise<ArchiveConfig>;
}

// Per client, so that two clients (two accounts or regions) never share entries. Expiry is a timestamp checked
// on read: no timer keeps the process alive.
let caches = new WeakMap<object, Map<string, Entry>>();

/**
 * Parses archive tags: `StreamArchiveMode` = `all` | `latest` (any case) and `ArchiveTTL` = `expireSeconds=N`.
 *
 * @throws {@link ArchiveConfigError} for a tag with another value.
 */
export function parseArchiveTags(tags: Readonly<Record<string, string | undefined>>): ArchiveConfig {
  const modeTag = tags[MODE_TAG];
  const ttlTag = tags[TTL_TAG];
  let mode: ArchiveMode | undefined;
  if (modeTag !== undefined) {
    const upper = modeTag.trim().toUpperCase();
    if (upper !== 'ALL' && upper !== 'LATEST') {
      throw new ArchiveConfigError(`tag ${MODE_TAG}=${JSON.stringify(modeTag)}: expected all or latest`, {
        tag: MODE_TAG,
        value: modeTag,
      });
    }
    mode = upper;
  }
  let ttlSeconds: number | undefined;
  if (ttlTag !== undefined) {
    const match = /^\s*expireSeconds\s*=\s*(\d{1,12})\s*$/.exec(ttlTag);
    ttlSeconds = match ? Number(match[1]) : Number.NaN;
    if (!(ttlSeconds >= 1)) {
      throw new ArchiveConfigError(
        `tag ${TTL_TAG}=${JSON.stringify(ttlTag)}: expected expireSeconds=N (N >= 1)`,
        {
          tag: TTL_TAG,
          value: ttlTag,
        },
      );
    }
  }
  return { mode, ttlSeconds };
}

async function readTags(kinesis: KinesisClient, streamNameOrArn: string): Promise<Record<string, string>> {
  const { ListTagsForStreamCommand } = await import('@aws-sdk/client-kinesis');
  const stream = streamNameOrArn.startsWith('arn:')
    ? { StreamARN: streamNameOrArn }
    : { StreamName: streamNameOrArn };
  const tags: Record<string, string> = {};
  let start: string | undefined;
  for (;;) {
    const out = await kinesis.send(new ListTagsForStreamCommand({ ...stream, ExclusiveStartTagKey: start }));
    const page: Tag[] = out.Tags ?? [];
    for (const tag of page) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
    if (!out.HasMoreTags || page.length === 0) return tags;
    start = page[page.length - 1]!.Key;
  }
}

/**
 * Reads a stream's archive configuration from its tags (ListTagsForStream), cached per client and stream for
 * `cacheTtlMs`. Needs `kinesis:ListTagsForStream`.
 *
 * @example
 * ```ts
 * const { mode, ttlSeconds } = await loadArchiveConfig(kinesis, 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders');
 * ```
 * @throws {@link ArchiveConfigError} for invalid tag values; the SDK's error when the stream cannot be read.
 */
export async function loadArchiveConfig(
  kinesis: KinesisClient,
  streamNameOrArn: string,
  options: LoadArchiveConfigOptions = {},
): Promise<ArchiveConfig> {
  const ttl = options.cacheTtlMs ?? DEFAULT_CONFIG_CACHE_MS;
  if (!Number.isFinite(ttl) || ttl < 0 || ttl > MAX_CONFIG_CACHE_MS) {
    throw new InvalidArchiveOptionError('cacheTtlMs', ttl, `0 to ${MAX_CONFIG_CACHE_MS}`);
  }
  let cache = caches.get(kinesis);
  if (!cache) {
    cache = new Map();
    caches.set(kinesis, cache);
  }
  const now = Date.now();
  const hit = cache.get(streamNameOrArn);
  if (hit && hit.expiresAt > now) return hit.value;
  const value = readTags(kinesis, streamNameOrArn).then(parseArchiveTags);
  if (ttl > 0) {
    cache.delete(streamNameOrArn);
    if (cache.size >= MAX_CACHED_STREAMS) cache.delete(cache.keys().next().value!);
    const entry = { expiresAt: now + ttl, value };
    cache.set(streamNameOrArn, entry);
    value.catch(() => {
      if (cache.get(streamNameOrArn) === entry) cache.delete(streamNameOrArn);
    });
  }
  return value;
}

/** Forgets every cached stream configuration (e.g. after changing tags in a test). */
export function clearArchiveConfigCache(kinesis?: KinesisClient): void {
  if (kinesis) caches.delete(kinesis);
  else caches = new WeakMap();
}
