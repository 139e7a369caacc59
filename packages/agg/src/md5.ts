import * as crypto from 'node:crypto';

type HashFn = (algorithm: string, data: crypto.BinaryLike, encoding: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: HashFn }).hash;

/** MD5 of `data` as a 16-byte Buffer (the one-shot `crypto.hash` when the runtime has it). */
export const md5: (data: crypto.BinaryLike) => Buffer = oneShot
  ? (data) => oneShot('md5', data, 'buffer')
  : (data) => crypto.createHash('md5').update(data).digest();
