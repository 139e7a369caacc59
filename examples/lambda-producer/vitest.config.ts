import { defineConfig } from 'vitest/config';
import { integrationConfig } from '../../vitest.shared.js';

export default defineConfig(integrationConfig());
