/** The four bytes that open every KPL aggregated record: `F3 89 9A C2`. */
export const MAGIC: Uint8Array = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);

/** Length of the MD5 checksum that closes an aggregated record. */
export const CHECKSUM_LENGTH = 16;

/** Fixed overhead of an aggregated record: the magic (4 bytes) and the MD5 checksum (16 bytes). */
export const AGGREGATE_OVERHEAD = MAGIC.length + CHECKSUM_LENGTH;

/** Default size limit of one Kinesis record (data + partition key): 1 MiB. */
export const DEFAULT_MAX_BYTES = 1_048_576;

/** Largest size limit a Kinesis stream can be configured for (data + partition key): 10 MiB. */
export const MAX_MAX_BYTES = 10 * 1_048_576;

/** Longest partition key Kinesis accepts, in Unicode characters (code points). */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** Largest hash key: 2^128 - 1. */
export const MAX_HASH_KEY: bigint = (1n << 128n) - 1n;

/** Outer partition key the KPL gives an aggregate of two or more records. */
export const DEFAULT_AGGREGATE_PARTITION_KEY = 'a';
