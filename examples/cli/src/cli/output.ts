import type { ArchivedRecord } from '@kinesis-archive/archive';

/** Where a command writes: results on stdout, progress and errors on stderr. */
export interface Output {
  /** One line of results. */
  out(line: string): void;
  /** One line of progress or diagnostics. */
  err(line: string): void;
  /** True when stderr is a terminal (progress bars redraw in place). */
  interactive: boolean;
}

/** The process's stdout and stderr. */
export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interactive: Boolean(process.stderr.isTTY),
};

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The payload as text when it is valid UTF-8. */
export function textOf(data: Uint8Array): string | undefined {
  try {
    return decoder.decode(data);
  } catch {
    return undefined;
  }
}

/** An archived record as JSON: `data` in base64 (byte-exact), `text` too when the payload is UTF-8. */
export function recordJson(record: ArchivedRecord): Record<string, unknown> {
  const text = textOf(record.data);
  return {
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp.toISOString(),
    shardId: record.shardId,
    ...(record.explicitHashKey ? { explicitHashKey: record.explicitHashKey } : {}),
    ...(record.tombstone ? { tombstone: true } : {}),
    data: Buffer.from(record.data).toString('base64'),
    ...(text !== undefined ? { text } : {}),
  };
}

/** An archived record as one human-readable line. */
export function recordLine(record: ArchivedRecord): string {
  const text = textOf(record.data);
  const payload =
    text !== undefined
      ? JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)
      : `<${record.data.byteLength} bytes>`;
  return [
    record.approximateArrivalTimestamp.toISOString(),
    record.partitionKey,
    `${record.sequenceNumber}.${record.subSequenceNumber}`,
    payload,
  ].join('  ');
}

/** Rows as an aligned text table. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
  );
}

/** Milliseconds as `1.2 s` / `2m 03s`. */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}
