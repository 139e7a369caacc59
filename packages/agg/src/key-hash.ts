import { md5 } from './md5.js';

/**
 * The hash key Kinesis routes a record by, as four big-endian 32-bit words (most significant first): the MD5 of
 * the UTF-8 partition key, computed here in JavaScript.
 *
 * Why not `node:crypto`: for a key of a few dozen bytes, a call into `crypto.hash` costs about 0.8 µs, nearly all
 * of it crossing into C++; this function costs about 0.17 µs. A shard-aware aggregator hashes every user record's
 * key to route it, so that difference is most of what routing costs (see the README's Performance section).
 * Results are checked against `node:crypto` by a property test.
 *
 * Keys longer than {@link MAX_FAST_KEY} UTF-16 units (never a valid partition key) and big-endian platforms use
 * `node:crypto`.
 */
export function keyHashWords(partitionKey: string, out: Uint32Array): void {
  const n = partitionKey.length;
  if (n > MAX_FAST_KEY || !LITTLE_ENDIAN) {
    digestWords(md5(partitionKey), out);
    return;
  }
  // the usual key: ASCII, one 64-byte block (up to 55 bytes)
  let len = n;
  let total = 64;
  const w = scratchWords;
  if (n <= 55) {
    for (let i = 0; i < 16; i++) w[i] = 0;
    for (let i = 0; i < n; i++) {
      const ch = partitionKey.charCodeAt(i);
      if (ch >= 0x80) {
        len = -1;
        break;
      }
      scratch[i] = ch;
    }
  } else {
    len = -1;
  }
  if (len < 0) {
    // at most 3 bytes per UTF-16 unit: the scratch buffer holds any key of MAX_FAST_KEY units and its padding
    len = scratch.write(partitionKey, 0, 'utf8');
    total = (((len + 8) >>> 6) + 1) << 6;
    for (let i = len; i < total; i++) scratch[i] = 0;
  }
  // padding: 0x80, zeros, the length in bits (64-bit little-endian) at the end of the last 64-byte block
  scratch[len] = 0x80;
  w[(total >>> 2) - 2] = len * 8;
  w[(total >>> 2) - 1] = 0;
  const h = state;
  h[0] = 0x67452301;
  h[1] = 0xefcdab89;
  h[2] = 0x98badcfe;
  h[3] = 0x10325476;
  for (let q = 0; q < total >>> 2; q += 16) block(q);
  out[0] = byteSwap(h[0]!);
  out[1] = byteSwap(h[1]!);
  out[2] = byteSwap(h[2]!);
  out[3] = byteSwap(h[3]!);
}

/** Reads a 16-byte digest (or any 128-bit big-endian value) as four big-endian words. */
export function digestWords(digest: Uint8Array, out: Uint32Array): void {
  for (let i = 0; i < 4; i++) {
    const p = i * 4;
    out[i] = ((digest[p]! << 24) | (digest[p + 1]! << 16) | (digest[p + 2]! << 8) | digest[p + 3]!) >>> 0;
  }
}

/** Splits a hash key (`0 .. 2^128-1`) into four big-endian words. */
export function hashKeyWords(hashKey: bigint, out: Uint32Array): void {
  out[0] = Number((hashKey >> 96n) & 0xffffffffn);
  out[1] = Number((hashKey >> 64n) & 0xffffffffn);
  out[2] = Number((hashKey >> 32n) & 0xffffffffn);
  out[3] = Number(hashKey & 0xffffffffn);
}

/** The hash key that four big-endian words hold. */
export function wordsHashKey(words: ArrayLike<number>): bigint {
  return (
    (BigInt(words[0]!) << 96n) | (BigInt(words[1]!) << 64n) | (BigInt(words[2]!) << 32n) | BigInt(words[3]!)
  );
}

/** Longest key (UTF-16 units) hashed here: 512 units hold any 256-character partition key. */
export const MAX_FAST_KEY = 512;

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
// 3 UTF-8 bytes per UTF-16 unit at most, plus padding
const scratch = Buffer.alloc(MAX_FAST_KEY * 3 + 128);
const scratchWords = new Int32Array(scratch.buffer, scratch.byteOffset, scratch.length >>> 2);
const state = new Int32Array(4);

function byteSwap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** The 64 steps of RFC 1321 (unrolled) over the block at word `q` of the scratch buffer, added into `state`. */
function block(q: number): void {
  const w = scratchWords;
  const h = state;
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  const w0 = w[q]!;
  const w1 = w[q + 1]!;
  const w2 = w[q + 2]!;
  const w3 = w[q + 3]!;
  const w4 = w[q + 4]!;
  const w5 = w[q + 5]!;
  const w6 = w[q + 6]!;
  const w7 = w[q + 7]!;
  const w8 = w[q + 8]!;
  const w9 = w[q + 9]!;
  const w10 = w[q + 10]!;
  const w11 = w[q + 11]!;
  const w12 = w[q + 12]!;
  const w13 = w[q + 13]!;
  const w14 = w[q + 14]!;
  const w15 = w[q + 15]!;
  let x = 0;
  x = (a + ((b & c) | (~b & d)) + -680876936 + w0) | 0;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -389564586 + w1) | 0;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + 606105819 + w2) | 0;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -1044525330 + w3) | 0;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + -176418897 + w4) | 0;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + 1200080426 + w5) | 0;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -1473231341 + w6) | 0;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -45705983 + w7) | 0;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + 1770035416 + w8) | 0;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -1958414417 + w9) | 0;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -42063 + w10) | 0;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -1990404162 + w11) | 0;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + 1804603682 + w12) | 0;
  a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -40341101 + w13) | 0;
  d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -1502002290 + w14) | 0;
  c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + 1236535329 + w15) | 0;
  b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((d & b) | (~d & c)) + -165796510 + w1) | 0;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -1069501632 + w6) | 0;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + 643717713 + w11) | 0;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -373897302 + w0) | 0;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + -701558691 + w5) | 0;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + 38016083 + w10) | 0;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + -660478335 + w15) | 0;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -405537848 + w4) | 0;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + 568446438 + w9) | 0;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -1019803690 + w14) | 0;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + -187363961 + w3) | 0;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + 1163531501 + w8) | 0;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + -1444681467 + w13) | 0;
  a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -51403784 + w2) | 0;
  d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + 1735328473 + w7) | 0;
  c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -1926607734 + w12) | 0;
  b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + (b ^ c ^ d) + -378558 + w5) | 0;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -2022574463 + w8) | 0;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + 1839030562 + w11) | 0;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -35309556 + w14) | 0;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + -1530992060 + w1) | 0;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + 1272893353 + w4) | 0;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + -155497632 + w7) | 0;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -1094730640 + w10) | 0;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + 681279174 + w13) | 0;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -358537222 + w0) | 0;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + -722521979 + w3) | 0;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + 76029189 + w6) | 0;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + -640364487 + w9) | 0;
  a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -421815835 + w12) | 0;
  d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + 530742520 + w15) | 0;
  c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -995338651 + w2) | 0;
  b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (c ^ (b | ~d)) + -198630844 + w0) | 0;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + 1126891415 + w7) | 0;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1416354905 + w14) | 0;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -57434055 + w5) | 0;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + 1700485571 + w12) | 0;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -1894986606 + w3) | 0;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1051523 + w10) | 0;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -2054922799 + w1) | 0;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + 1873313359 + w8) | 0;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -30611744 + w15) | 0;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1560198380 + w6) | 0;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + 1309151649 + w13) | 0;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + -145523070 + w4) | 0;
  a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -1120210379 + w11) | 0;
  d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + 718787259 + w2) | 0;
  c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -343485551 + w9) | 0;
  b = (c + ((x << 21) | (x >>> 11))) | 0;
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
}
