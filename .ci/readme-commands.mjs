#!/usr/bin/env node
// Prints the commands of the README's "Quick start" shell block, one per line, without their trailing comments,
// so CI runs exactly what a new user copies.  Usage: node .ci/readme-commands.mjs README.md
import { readFileSync } from 'node:fs';

const markdown = readFileSync(process.argv[2] ?? 'README.md', 'utf8');
const section = markdown.split(/^## /m).find((s) => s.startsWith('Quick start'));
const block = section?.match(/^```sh\n([\s\S]*?)^```/m)?.[1];
if (!block) {
  console.error('no ```sh block under "## Quick start" in the README');
  process.exit(1);
}
for (const line of block.split('\n')) {
  const command = line.replace(/\s+#.*$/, '').trim();
  if (command) console.log(command);
}
