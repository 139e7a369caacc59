import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const deployDir = fileURLToPath(new URL('..', import.meta.url));

/** Lines of the bundler's own progress, which `cdk synth` passes through. */
const bundling = /^(Bundling asset |\s+\S*index\.js(\.map)?\s|⚡ Done in )/;

it('cdk synth of the app succeeds offline and prints no warning (feature flags set in cdk.json)', () => {
  const out = mkdtempSync(join(tmpdir(), 'kinesis-archive-synth-'));
  try {
    const cdk = join(deployDir, 'node_modules', '.bin', 'cdk');
    const run = spawnSync(cdk, ['synth', '--quiet', '--no-notices', '--output', out], {
      cwd: deployDir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
      timeout: 240_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const said = `${run.stdout}\n${run.stderr}`
      .split('\n')
      .filter((line) => line.trim() !== '' && !bundling.test(line));
    expect(said).toEqual([]);
    const template = JSON.parse(readFileSync(join(out, 'KinesisArchive.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(
      3,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
