import type { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type FailureJournal, isJournalEntry, type JournalEntry } from './journal.js';

/**
 * A failure journal in a JSON-lines file: each `append` writes its entries and syncs the file to disk before it
 * resolves; `remove` appends a removal line. One process writes a file at a time (the CLI, one worker). A line
 * torn by a crash during an append is skipped when read: its append never resolved, so no cursor passed its
 * record.
 *
 * @example
 * ```ts
 * const journal = new FileFailureJournal('replay-failures.jsonl');
 * await replay({ source, kinesis, streamName, journal, checkpoint });
 * for await (const entry of journal.list()) console.log(entry.record.partitionKey, entry.error.code);
 * ```
 */
export class FileFailureJournal implements FailureJournal {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  append(entries: readonly JournalEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.write(entries.map((e) => JSON.stringify(e)));
  }

  remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.write([JSON.stringify({ remove: ids })]);
  }

  async *list(): AsyncIterable<JournalEntry> {
    await this.queue.catch(() => undefined);
    // first pass: the line that last wrote each id, and the removed ids
    const last = new Map<string, number>();
    for await (const { n, value } of this.lines()) {
      const v = value as { remove?: unknown; id?: unknown };
      if (Array.isArray(v.remove)) for (const id of v.remove) last.delete(String(id));
      else if (isJournalEntry(value)) last.set(value.id, n);
    }
    if (last.size === 0) return;
    for await (const { n, value } of this.lines()) {
      if (isJournalEntry(value) && last.get(value.id) === n) yield value;
    }
  }

  private async *lines(): AsyncGenerator<{ n: number; value: unknown }> {
    let input: ReturnType<typeof createReadStream>;
    try {
      const handle = await open(this.path, 'r');
      input = handle.createReadStream({ encoding: 'utf8' });
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return;
      throw error;
    }
    let n = 0;
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      n++;
      if (line.trim() === '') continue;
      try {
        yield { n, value: JSON.parse(line) as unknown };
      } catch {
        // a line torn by a crash mid-append (see the class doc)
      }
    }
  }

  private write(lines: string[]): Promise<void> {
    const run = this.queue.then(async () => {
      const handle = await open(this.path, 'a+');
      try {
        const { size } = await handle.stat();
        let prefix = '';
        if (size > 0) {
          // a torn last line (crash mid-append) gets its newline, so the new lines stay whole
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          if (last[0] !== 0x0a) prefix = '\n';
        }
        await handle.appendFile(`${prefix}${lines.join('\n')}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
