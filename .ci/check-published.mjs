#!/usr/bin/env node
// Checks the packages the way a user receives them: packs every publishable package (`pnpm tarballs`, as the
// READMEs tell users to before the first release), installs the tarballs and
// their AWS SDK peers with npm into a scratch app outside the workspace, imports every entry point from ESM and
// CommonJS, and type-checks every TypeScript snippet of the package READMEs (and the root README) against the
// installed packages. Run from the repository root after `pnpm build`:  node .ci/check-published.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { extractSnippets } from './snippets.mjs';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const keep = process.argv.includes('--keep');
const scratch = mkdtempSync(join(tmpdir(), 'kinesis-archive-published-'));
const tarballs = join(root, 'tarballs'); // where `pnpm tarballs`, the README's pre-release install path, packs
const app = join(scratch, 'app');
mkdirSync(app);

/** The AWS SDK packages a user installs beside ours (the peers named in the READMEs). */
const peers = [
  '@aws-sdk/client-kinesis',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-dynamodb-streams',
  '@aws-sdk/util-dynamodb',
];

function run(command, args, cwd) {
  execFileSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, npm_config_fund: 'false' } });
}

function step(title) {
  console.log(`\n== ${title}`);
}

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpm = join(root, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir: join(root, 'packages', dir), name: dir }))
  .map((p) => ({ ...p, json: JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) }))
  .filter((p) => !p.json.private);

try {
  step(`pack ${packages.length} packages with \`pnpm tarballs\``);
  rmSync(tarballs, { recursive: true, force: true });
  run(process.execPath, [pnpm, 'run', 'tarballs'], root);
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  if (files.length !== packages.length)
    throw new Error(`expected ${packages.length} tarballs, got ${files.length}`);

  step('npm install the tarballs and their peers into a scratch app');
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }),
  );
  const typescript = `typescript@${rootPkg.devDependencies.typescript}`;
  const vitest = `vitest@${rootPkg.devDependencies.vitest}`; // the local package's README shows its Vitest setup
  const nodeTypes = `@types/node@${rootPkg.devDependencies['@types/node']}`;
  run(
    'npm',
    ['install', '--no-audit', '--loglevel=warn', ...files, ...peers, typescript, nodeTypes, vitest],
    app,
  );

  step('import every entry point (ESM and CommonJS)');
  const entries = packages.flatMap((p) =>
    Object.keys(p.json.exports)
      .filter((sub) => sub !== './package.json')
      .map((sub) => (sub === '.' ? p.json.name : `${p.json.name}/${sub.slice(2)}`)),
  );
  const check = (kind, load) =>
    `for (const id of ${JSON.stringify(entries)}) {
  const m = ${load};
  const names = Object.keys(m).filter((k) => k !== '__esModule');
  if (names.length === 0) throw new Error('${kind}: ' + id + ' exports nothing');
  console.log('${kind}', id, names.length, 'exports');
}\n`;
  writeFileSync(join(app, 'entries.mjs'), check('esm', 'await import(id)'));
  writeFileSync(join(app, 'entries.cjs'), check('cjs', 'require(id)'));
  run(process.execPath, ['entries.mjs'], app);
  run(process.execPath, ['entries.cjs'], app);
  for (const p of packages) {
    for (const [name] of Object.entries(p.json.bin ?? {})) {
      step(`run the ${name} command from the installed package`);
      run(join(app, 'node_modules', '.bin', name), ['--help'], app);
    }
  }

  step('type-check the README snippets against the installed packages');
  const readmes = [join(root, 'README.md'), ...packages.map((p) => join(p.dir, 'README.md'))];
  const dir = join(app, 'snippets');
  mkdirSync(dir);
  let count = 0;
  for (const readme of readmes) {
    for (const snippet of extractSnippets(readFileSync(readme, 'utf8'))) {
      const label = `${readme.slice(root.length + 1)}:${snippet.line}`;
      const file = `${label.replace(/[^a-z0-9]+/gi, '-')}.ts`;
      writeFileSync(join(dir, file), `// ${label}\n${snippet.context}\n${snippet.code}\nexport {};\n`);
      count++;
    }
  }
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['snippets/*.ts'],
    }),
  );
  run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
  console.log(`${count} README snippets type-check`);

  console.log(
    `\npublished shape: ${packages.length} packages, ${entries.length} entry points, ${count} snippets: ok`,
  );
} finally {
  if (keep) console.log(`scratch app kept at ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
