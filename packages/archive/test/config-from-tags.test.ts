import { AddTagsToStreamCommand, RemoveTagsFromStreamCommand } from '@aws-sdk/client-kinesis';
import { createStream, uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ArchiveConfigError,
  clearArchiveConfigCache,
  loadArchiveConfig,
  parseArchiveTags,
} from '../src/index.js';

const { clients } = localAws();
const kinesis = clients.kinesis;
afterAll(() => clients.destroy());

async function taggedStream(tags: Record<string, string>): Promise<{ name: string; arn: string }> {
  const name = uniqueName('tags');
  const arn = await createStream(kinesis, name, { tags });
  return { name, arn };
}

describe('parseArchiveTags', () => {
  it('reads the mode (any case) and the TTL', () => {
    expect(parseArchiveTags({ StreamArchiveMode: 'latest', ArchiveTTL: 'expireSeconds=3600' })).toEqual({
      mode: 'LATEST',
      ttlSeconds: 3600,
    });
    expect(parseArchiveTags({ StreamArchiveMode: 'All' })).toEqual({ mode: 'ALL', ttlSeconds: undefined });
    expect(parseArchiveTags({ Other: 'x' })).toEqual({ mode: undefined, ttlSeconds: undefined });
  });

  it('rejects invalid values with INVALID_ARCHIVE_CONFIG', () => {
    expect(() => parseArchiveTags({ StreamArchiveMode: 'some' })).toThrow(ArchiveConfigError);
    expect(() => parseArchiveTags({ ArchiveTTL: '3600' })).toThrow(ArchiveConfigError);
    expect(() => parseArchiveTags({ ArchiveTTL: 'expireSeconds=0' })).toThrow(ArchiveConfigError);
    expect(() => parseArchiveTags({ ArchiveTTL: 'expireSeconds=-5' })).toThrow(/ArchiveTTL/);
  });
});

describe('loadArchiveConfig (kinesis-mock)', () => {
  it('reads the tags of a stream by name and by ARN', async () => {
    const { name, arn } = await taggedStream({ StreamArchiveMode: 'all', ArchiveTTL: 'expireSeconds=86400' });
    expect(await loadArchiveConfig(kinesis, name)).toEqual({ mode: 'ALL', ttlSeconds: 86400 });
    expect(await loadArchiveConfig(kinesis, arn)).toEqual({ mode: 'ALL', ttlSeconds: 86400 });
  });

  it('caches for the given time, then reads again', async () => {
    const { name } = await taggedStream({ StreamArchiveMode: 'latest' });
    expect((await loadArchiveConfig(kinesis, name, { cacheTtlMs: 3000 })).mode).toBe('LATEST');
    await kinesis.send(new AddTagsToStreamCommand({ StreamName: name, Tags: { StreamArchiveMode: 'all' } }));
    expect((await loadArchiveConfig(kinesis, name, { cacheTtlMs: 3000 })).mode).toBe('LATEST'); // cached
    await new Promise((r) => setTimeout(r, 3100));
    expect((await loadArchiveConfig(kinesis, name, { cacheTtlMs: 3000 })).mode).toBe('ALL');
    await kinesis.send(new RemoveTagsFromStreamCommand({ StreamName: name, TagKeys: ['StreamArchiveMode'] }));
    clearArchiveConfigCache(kinesis);
    expect((await loadArchiveConfig(kinesis, name)).mode).toBeUndefined();
  });

  it('reports invalid tags and missing streams, and does not cache failures', async () => {
    const { name } = await taggedStream({ StreamArchiveMode: 'everything' });
    await expect(loadArchiveConfig(kinesis, name)).rejects.toBeInstanceOf(ArchiveConfigError);
    await kinesis.send(
      new AddTagsToStreamCommand({ StreamName: name, Tags: { StreamArchiveMode: 'latest' } }),
    );
    expect((await loadArchiveConfig(kinesis, name)).mode).toBe('LATEST');
    await expect(loadArchiveConfig(kinesis, uniqueName('nope'))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('rejects a cache time over one hour', async () => {
    await expect(loadArchiveConfig(kinesis, 'x', { cacheTtlMs: 7_200_000 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });
});
