import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLocalClients } from '@kinesis-archive/local';

/** Starts the answer-at-once stand-in (`sink-server.ts`) in a child process; resolves with its endpoint. */
export async function startSink(mode: 'ok' | 'missing'): Promise<{ endpoint: string; stop: () => void }> {
  const server: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./sink-server.ts', import.meta.url))],
    { env: { ...process.env, SINK_MODE: mode }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (d) => {
      out += String(d);
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`sink server exited with ${code}`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.kill('SIGKILL') };
}

/** A Kinesis client for the sink. */
export function sinkClient(endpoint: string) {
  return createLocalClients({ region: 'us-east-1', kinesis: endpoint });
}

export { generate } from './generate.mjs';
