import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';

/** Puts `count` records `key-<i % keys>` / `record-<offset + i>`; returns their sequence numbers by shard. */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  count: number,
  options: { keys?: number; offset?: number } = {},
): Promise<Map<string, string[]>> {
  const keys = options.keys ?? 50;
  const offset = options.offset ?? 0;
  const byShard = new Map<string, string[]>();
  for (let start = 0; start < count; start += 500) {
    const entries = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      entries.push({ PartitionKey: `key-${(offset + i) % keys}`, Data: Buffer.from(`record-${offset + i}`) });
    }
    const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    if (out.FailedRecordCount) throw new Error(`PutRecords failed ${out.FailedRecordCount} records`);
    for (const r of out.Records ?? []) {
      const list = byShard.get(r.ShardId ?? '') ?? [];
      list.push(r.SequenceNumber ?? '');
      byShard.set(r.ShardId ?? '', list);
    }
  }
  return byShard;
}

const bin = fileURLToPath(new URL('../bin/kinesis-archive.mjs', import.meta.url));

/** How a CLI run ended. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the signal sent to the exit (when one was sent). */
  afterSignalMs?: number;
}

/**
 * Runs the CLI as a user would, in a process of its own, with no AWS credentials in the environment. `until` /
 * `untilStderr` / `afterMs` send `signal` (default SIGINT) once they hold; `onSpawn` gets the child's pid.
 */
export function cli(
  args: string[],
  options: {
    until?: (stdout: string) => boolean;
    untilStderr?: (stderr: string) => boolean;
    afterMs?: number;
    signal?: NodeJS.Signals;
    /** Sends the signal a second time, this long after the first. */
    againAfterMs?: number;
    /** Environment changes: a variable set to `undefined` is removed. */
    env?: Record<string, string | undefined>;
    onStdout?: (stdout: string, pid: number) => void;
  } = {},
): Promise<Run> {
  const env = { ...process.env };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_SESSION_TOKEN'])
    delete env[name];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env });
    let stdout = '';
    let stderr = '';
    let signalledAt: number | undefined;
    const send = () => {
      if (signalledAt !== undefined) return;
      signalledAt = Date.now();
      child.kill(options.signal ?? 'SIGINT');
      if (options.againAfterMs !== undefined) {
        setTimeout(() => child.kill(options.signal ?? 'SIGINT'), options.againAfterMs);
      }
    };
    const timer = options.afterMs === undefined ? undefined : setTimeout(send, options.afterMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child.pid!);
      if (options.until?.(stdout)) send();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.untilStderr?.(stderr)) send();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const run: Run = { code, stdout, stderr };
      if (signalledAt !== undefined) run.afterSignalMs = Date.now() - signalledAt;
      resolve(run);
    });
  });
}

/** The CLI options that point a command at the test's stand-ins. */
export function connectionArgs(endpoints: {
  kinesis?: string | undefined;
  dynamodb?: string | undefined;
  region: string;
}): string[] {
  return [
    '--kinesis-endpoint',
    endpoints.kinesis ?? '',
    '--dynamodb-endpoint',
    endpoints.dynamodb ?? '',
    '--region',
    endpoints.region,
  ];
}

/**
 * A pseudo-terminal for a child process, from Python's standard `pty` module (python3 is on every machine the
 * project supports, and it needs no native addon): it runs the command with the terminal as its stdin, stdout and
 * stderr, copies what the command writes to our pipe, and exits with the command's exit code.
 */
const PTY =
  'import pty, sys\nstatus = pty.spawn(sys.argv[1:])\nsys.exit(status >> 8 if status > 255 else status)';

/**
 * Runs the CLI in a pseudo-terminal, as from an operator's shell: stdout and stderr are a TTY (and arrive merged,
 * as a terminal shows them, in `stdout`). No AWS credentials in the environment.
 */
export function cliInTerminal(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', COLUMNS: '120', LINES: '40' };
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_PROFILE',
    'AWS_SESSION_TOKEN',
    'NO_COLOR',
  ])
    delete env[name];
  return new Promise<Run>((resolve, reject) => {
    const child = spawn('python3', ['-c', PTY, process.execPath, bin, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
