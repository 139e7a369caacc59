import { describe, expect, it } from 'vitest';
import type { Output } from '../src/cli/output.js';
import { runDemo } from '../src/demo.js';

describe('pnpm demo', () => {
  it('runs end to end on its own stand-ins and every verification passes', async () => {
    const lines: string[] = [];
    const output: Output = { out: (l) => lines.push(l), err: (l) => lines.push(l), interactive: false };
    const result = await runDemo({ output });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => c.name)).toContain('replayed LATEST: per-key order and content');
    expect(lines.join('\n')).toMatch(/History of user-042 \(20 records/);
    expect(lines.join('\n')).toContain('Demo passed');
  }, 180_000);
});
