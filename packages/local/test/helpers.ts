import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder. */
export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Whether a pid is a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Pids of live processes whose command line contains `args` in a row (Linux /proc). */
export function processesWithArgs(args: string[]): number[] {
  const needle = `\0${args.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return `\0${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}`.includes(needle) && isAlive(pid);
      } catch {
        return false;
      }
    });
}

/** Waits until none of `pids` is alive; returns the ones still alive after `timeoutMs`. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a TypeScript file of this package with tsx in a child process. */
export function runTs(file: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(packageDir, file), ...args], {
    cwd: packageDir,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with everything a child printed on stdout once `done(text)` holds; rejects if it exits first. */
export function waitForOutput(
  child: ChildProcess,
  done: (text: string) => boolean,
  timeoutMs = 100_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`timed out; stdout: ${out}\nstderr: ${err}`)), timeoutMs);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (done(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) early; stdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** Resolves with the exit code and signal of a child. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
