import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, isAlive, packageDir, processesWithArgs, runTs, waitForOutput, waitGone } from './helpers.js';

/** Children started by a test; killed after it even when an assertion failed, so no test run leaks them. */
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await Promise.race([exited(child), new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
});

function track<T extends ChildProcess>(child: T): T {
  children.push(child);
  return child;
}

async function holdStandIns(): Promise<{ child: ReturnType<typeof runTs>; pids: number[] }> {
  const child = track(runTs('test/fixtures/hold-stand-ins.ts'));
  const out = await waitForOutput(child, (text) => text.includes('"ready":true'));
  const line = out.split('\n').find((l) => l.includes('"ready":true')) ?? '{}';
  const pids = (JSON.parse(line) as { pids: number[] }).pids;
  return { child, pids };
}

function portAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// These start stand-ins in child processes: give them room on a loaded machine.
describe('no stand-in outlives its parent', { timeout: 150_000 }, () => {
  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`leaves no java or kinesis-mock process after the parent gets ${signal}`, async () => {
      const { child, pids } = await holdStandIns();
      expect(pids).toHaveLength(4); // two supervisors, java, kinesis-mock
      expect(pids.every(isAlive)).toBe(true);
      child.kill(signal);
      expect((await exited(child)).signal).toBe(signal);
      expect(await waitGone(pids, 5_000)).toEqual([]);
    });
  }

  it('the bin prints endpoints and env vars, and stops everything on SIGINT', async () => {
    const child = track(runTs('src/bin.ts'));
    const out = await waitForOutput(child, (text) => text.includes('Press Ctrl-C'));
    const kinesis = /Kinesis \(kinesis-mock\):\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const dynamodb = /DynamoDB \+ Streams \(Local\):\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(kinesis).toBeDefined();
    expect(dynamodb).toBeDefined();
    expect(out).toContain(`export AWS_ENDPOINT_URL_KINESIS=${kinesis}`);
    expect(out).toContain(`export AWS_ENDPOINT_URL_DYNAMODB=${dynamodb}`);
    expect(out).toContain('export AWS_REGION=us-east-1');
    expect(await portAnswers(kinesis ?? '')).toBe(true);
    expect(await portAnswers(dynamodb ?? '')).toBe(true);
    child.kill('SIGINT');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(await portAnswers(kinesis ?? '')).toBe(false);
    expect(await portAnswers(dynamodb ?? '')).toBe(false);
  });

  it('a Vitest run interrupted with SIGINT (Ctrl-C) leaves no stand-in running', async () => {
    const vitestBin = join(
      dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
      'vitest.mjs',
    );
    const child = track(
      spawn(process.execPath, [vitestBin, 'run', '--config', 'test/fixtures/interrupted/vitest.config.ts'], {
        cwd: packageDir,
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const out = await waitForOutput(child, (text) => /ENDPOINTS \{.*\}/.test(text));
    const endpoints = JSON.parse(/ENDPOINTS (\{.*\})/.exec(out)?.[1] ?? '{}') as Record<string, string>;
    expect(await portAnswers(endpoints.kinesis ?? '')).toBe(true);
    expect(await portAnswers(endpoints.dynamodb ?? '')).toBe(true);
    const javaArgs = ['-port', new URL(endpoints.dynamodb ?? 'http://x:0').port];
    const java = processesWithArgs(javaArgs);
    expect(java).toHaveLength(2); // the supervisor (its command line holds the java arguments) and java
    child.kill('SIGINT');
    await exited(child);
    const deadline = Date.now() + 10_000;
    let open = [true, true];
    while (open.some(Boolean) && Date.now() < deadline) {
      open = [await portAnswers(endpoints.kinesis ?? ''), await portAnswers(endpoints.dynamodb ?? '')];
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(open).toEqual([false, false]);
    expect(await waitGone(java, 5_000)).toEqual([]);
    expect(processesWithArgs(javaArgs)).toEqual([]);
  });
});
