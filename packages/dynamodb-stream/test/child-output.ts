// The output of a test's child process, line by line.
import type { Readable } from 'node:stream';

/** Calls `onLine` with each complete line `stream` writes. */
export function onLines(stream: Readable | null, onLine: (line: string) => void): void {
  let out = '';
  stream?.on('data', (d) => {
    out += String(d);
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}
