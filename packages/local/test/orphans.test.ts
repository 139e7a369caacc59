import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { exited, isAlive, runTs, waitForOutput, waitGone } from './helpers.js';

async function holdStandIns(): Promise<{ child: ReturnType<typeof runTs>; pids: number[] }> {
  const child = runTs('test/fixtures/hold-stand-ins.ts');
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
    const child = runTs('src/bin.ts');
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
});
