// Extracts the TypeScript snippets of a README so CI can type-check them against the installed packages.
//
// Every ```ts (or ```typescript) block is one snippet, compiled as its own module. A snippet may use names it does
// not define (a client, an event, the previous snippet's object): declare them in an HTML comment, which readers of
// the rendered README do not see:
//
//   <!-- snippet-context: every snippet of this file
//   declare const kinesis: import('@aws-sdk/client-kinesis').KinesisClient;
//   -->
//
//   <!-- snippet-context
//   declare const records: import('@kinesis-archive/agg').UserRecord[];
//   -->
//   ```ts
//   records.sort(comparePositions);
//   ```
//
// A `snippet-context` comment right before a block (blank lines allowed) applies to that block; one whose first line
// says `every snippet of this file` applies to every block after it.

const FENCE = /^```(ts|typescript)\s*$/;
const CONTEXT = /<!--\s*snippet-context([^\n]*)\n([\s\S]*?)-->/g;

/**
 * @param {string} markdown
 * @returns {{ line: number, code: string, context: string }[]}
 */
export function extractSnippets(markdown) {
  const lines = markdown.split('\n');
  const contexts = [];
  for (const m of markdown.matchAll(CONTEXT)) {
    const endLine = markdown.slice(0, (m.index ?? 0) + m[0].length).split('\n').length;
    contexts.push({ endLine, all: /every snippet of this file/.test(m[1] ?? ''), text: m[2] ?? '' });
  }
  const snippets = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i] ?? '')) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    const fenceLine = i + 1; // 1-based line of the opening fence
    const applies = contexts.filter((c) => {
      if (c.endLine >= fenceLine) return false;
      if (c.all) return true;
      // only blank lines between the comment's end and the fence
      return lines.slice(c.endLine, fenceLine - 1).every((l) => l.trim() === '');
    });
    snippets.push({
      line: fenceLine,
      code: lines.slice(start, end).join('\n'),
      context: applies.map((c) => c.text).join('\n'),
    });
    i = end;
  }
  return snippets;
}
