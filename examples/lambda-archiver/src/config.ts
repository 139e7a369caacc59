import { KinesisArchiveError } from '@kinesis-archive/core';

/** Archive mode as the archiver's environment spells it. */
export type ArchiverMode = 'ALL' | 'LATEST';

/**
 * What the environment says about the archive. Anything left undefined comes from the source stream's tags
 * (`StreamArchiveMode`, `ArchiveTTL`) and the conventional table name `<stream>-archive-<MODE>`.
 */
export interface ArchiverEnvConfig {
  /** `ARCHIVE_TABLE`: one table for every stream of the event. */
  tableName?: string;
  /** `ARCHIVE_MODE`: `ALL` or `LATEST` (any case). */
  mode?: ArchiverMode;
  /** `ARCHIVE_TTL_SECONDS`: a whole number of seconds; `0` means records never expire. */
  ttlSeconds?: number;
}

/** Thrown when an archiver environment variable has a value it cannot use. Code `INVALID_ARCHIVER_CONFIG`. */
export class ArchiverConfigError extends KinesisArchiveError {
  constructor(variable: string, value: string, expected: string) {
    super(
      'INVALID_ARCHIVER_CONFIG',
      `${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`,
      {
        details: { variable, value, expected },
      },
    );
  }
}

/**
 * Reads `ARCHIVE_TABLE`, `ARCHIVE_MODE` and `ARCHIVE_TTL_SECONDS`. Empty variables count as unset; a value that
 * cannot be used throws {@link ArchiverConfigError} (so a typo fails the deployment's first invocation loudly
 * instead of archiving with a wrong mode or TTL).
 */
export function archiverConfigFromEnv(env: Readonly<Record<string, string | undefined>>): ArchiverEnvConfig {
  const config: ArchiverEnvConfig = {};
  const table = env.ARCHIVE_TABLE?.trim();
  if (table) config.tableName = table;
  const mode = env.ARCHIVE_MODE?.trim();
  if (mode) {
    const upper = mode.toUpperCase();
    if (upper !== 'ALL' && upper !== 'LATEST') {
      throw new ArchiverConfigError('ARCHIVE_MODE', mode, 'ALL or LATEST');
    }
    config.mode = upper;
  }
  const ttl = env.ARCHIVE_TTL_SECONDS?.trim();
  if (ttl) {
    if (!/^\d{1,12}$/.test(ttl)) {
      throw new ArchiverConfigError('ARCHIVE_TTL_SECONDS', ttl, 'a whole number of seconds (0 = no expiry)');
    }
    config.ttlSeconds = Number(ttl);
  }
  return config;
}
