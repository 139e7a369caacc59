/**
 * `n` records of 1 KiB over 10,000 keys, made as they are read (a source that does not sit in memory).
 * @param {number} n
 */
export async function* generate(n) {
  for (let i = 0; i < n; i++) {
    const data = Buffer.allocUnsafe(1024);
    data.fill(i & 0xff);
    data.writeUInt32BE(i, 0);
    yield { partitionKey: `user-${i % 10_000}`, data, sequenceNumber: String(10_000 + i) };
  }
}
