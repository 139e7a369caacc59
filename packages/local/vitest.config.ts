import { defineConfig } from 'vitest/config';
import { integrationConfig } from '../../vitest.shared.js';

// The package tests itself through its sources (the published setup is `@kinesis-archive/local/vitest`).
export default defineConfig(integrationConfig({ globalSetup: ['./src/vitest-setup.ts'] }));
