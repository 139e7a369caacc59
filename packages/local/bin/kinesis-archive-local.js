#!/usr/bin/env node
// A committed launcher, so package managers can link the command at install time (before `dist/` is built).
import('../dist/bin.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    console.error('kinesis-archive-local: this package is not built yet; run `pnpm build` first.');
    process.exit(1);
  }
  throw error;
});
