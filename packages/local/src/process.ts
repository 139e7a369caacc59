import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A tiny supervisor that runs between us and each stand-in. It watches its stdin, which is a pipe from this
 * process: when the pipe closes (we exited, crashed, or were killed with SIGKILL), or when it gets a termination
 * signal, it kills the stand-in, waits until it is gone and exits. So a stand-in can never outlive the process that
 * started it. The supervisor reports the stand-in's pid on its fd 3.
 */
const SUPERVISOR = `
const { spawn } = require('node:child_process');
const { writeSync } = require('node:fs');
const [cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
try { if (child.pid) writeSync(3, child.pid + '\\n'); } catch {}
let done = false;
let exited = false;
const finish = () => {
  if (done) return;
  done = true;
  if (exited) process.exit(0);
  try { child.kill('SIGKILL'); } catch {}
  setTimeout(() => process.exit(0), 5000).unref();
};
child.on('error', (e) => { console.error(String(e && e.message || e)); process.exit(127); });
child.on('exit', (code, signal) => { exited = true; process.exit(done ? 0 : code ?? (signal ? 1 : 0)); });
process.stdin.on('end', finish); process.stdin.on('close', finish); process.stdin.on('error', finish);
process.stdin.resume();
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, finish);
`;

const live = new Set<ManagedProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      for (const p of live) p.killNow();
      // Keep the default behaviour (exit) unless somebody else handles the signal.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
  }
}

/** A stand-in process under a supervisor, with its recent output kept for error messages. */
export class ManagedProcess {
  readonly name: string;
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private readonly outputEnd: Promise<void>;
  /** True once {@link stop} or {@link killNow} was called: an exit after it is expected. */
  stopping = false;
  private standInPid: number | undefined;
  exitCode: number | null = null;

  constructor(
    name: string,
    command: string,
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv },
  ) {
    this.name = name;
    installExitHooks();
    this.child = spawn(process.execPath, ['-e', SUPERVISOR, command, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    live.add(this);
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (line.trim() === '') continue;
        this.lines.push(line);
        if (this.lines.length > 40) this.lines.shift();
      }
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.outputEnd = Promise.all(
      [this.child.stdout, this.child.stderr].map(
        (stream) =>
          new Promise<void>((resolve) => {
            if (!stream) return resolve();
            stream.once('close', () => resolve());
            stream.once('error', () => resolve());
          }),
      ),
    ).then(() => {});
    this.child.stdin?.on('error', () => {});
    const pidPipe = this.child.stdio[3] as NodeJS.ReadableStream | null;
    pidPipe?.on('data', (chunk: Buffer) => {
      const pid = Number.parseInt(chunk.toString('utf8'), 10);
      if (Number.isInteger(pid) && pid > 0) this.standInPid = pid;
    });
    pidPipe?.on('error', () => {});
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.exited = true;
        this.exitCode = code;
        live.delete(this);
        resolve();
      });
      this.child.on('error', (err) => {
        this.lines.push(String(err.message));
        this.exited = true;
        live.delete(this);
        resolve();
      });
    });
    // The stand-ins must not keep the event loop alive on their own.
    this.child.unref();
    for (const stream of [this.child.stdout, this.child.stderr, this.child.stdin, this.child.stdio[3]]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
  }

  /** Resolves when the process has exited (for any reason). */
  get whenExited(): Promise<void> {
    return this.exitPromise;
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.exited;
  }

  /** Pids of the supervisor and of the stand-in under it (once the supervisor reported it). For tests. */
  processIds(): number[] {
    return [this.child.pid, this.standInPid].filter((pid): pid is number => pid !== undefined);
  }

  /**
   * The last lines the process printed, once it has exited and its output is read to the end (the exit can be
   * reported before the last lines arrive), or after `waitMs` at most.
   */
  async finalOutput(waitMs = 2_000): Promise<string> {
    await this.exitPromise;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.outputEnd,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
    return this.recentOutput();
  }

  /** The last lines the process printed. */
  recentOutput(): string {
    return this.lines.join('\n');
  }

  /** Kills synchronously (used on process exit). */
  killNow(): void {
    this.stopping = true;
    if (this.exited) return;
    try {
      this.child.stdin?.destroy();
      this.child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }

  /** Stops the process and waits until it is gone. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.exited) return;
    this.killNow();
    const timer = setTimeout(() => {
      try {
        this.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    await this.exitPromise;
    clearTimeout(timer);
  }
}
