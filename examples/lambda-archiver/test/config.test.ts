import { describe, expect, it } from 'vitest';
import { ArchiverConfigError, archiverConfigFromEnv } from '../src/config.js';

describe('archiverConfigFromEnv', () => {
  it('reads the three variables, any case for the mode', () => {
    expect(
      archiverConfigFromEnv({ ARCHIVE_TABLE: 't', ARCHIVE_MODE: 'latest', ARCHIVE_TTL_SECONDS: '86400' }),
    ).toEqual({
      tableName: 't',
      mode: 'LATEST',
      ttlSeconds: 86_400,
    });
  });

  it('leaves unset and empty variables to the stream tags', () => {
    expect(archiverConfigFromEnv({})).toEqual({});
    expect(archiverConfigFromEnv({ ARCHIVE_TABLE: ' ', ARCHIVE_MODE: '', ARCHIVE_TTL_SECONDS: '' })).toEqual(
      {},
    );
  });

  it.each([
    ['ARCHIVE_MODE', 'compacted'],
    ['ARCHIVE_TTL_SECONDS', '-5'],
    ['ARCHIVE_TTL_SECONDS', '1.5'],
    ['ARCHIVE_TTL_SECONDS', '10 days'],
  ])('rejects %s=%s with a typed error naming the variable', (variable, value) => {
    let error: unknown;
    try {
      archiverConfigFromEnv({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ArchiverConfigError);
    expect(error).toMatchObject({ code: 'INVALID_ARCHIVER_CONFIG', details: { variable, value } });
  });
});
