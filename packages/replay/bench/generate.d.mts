import type { ReplayRecord } from '../src/index.js';

/** `n` records of 1 KiB over 10,000 keys, made as they are read. */
export function generate(n: number): AsyncIterable<ReplayRecord>;
