/**
 * A small seeded pseudo-random generator (the mulberry32 algorithm): the same seed always gives the same sequence
 * of numbers in [0, 1). For deterministic tests and benches; the fault proxy uses it so that fault injection can
 * be replayed exactly. Not for anything that needs unpredictable numbers.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const size = 100 + Math.floor(random() * 900); // the same on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
