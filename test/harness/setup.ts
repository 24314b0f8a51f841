// Runs before each test file (vitest.config.ts setupFiles): the default per-test and per-hook
// timeouts are hang guards, so they scale with how busy the machine is when the file starts.
import { vi } from 'vitest';
import { scaled } from './pace.js';

vi.setConfig({ testTimeout: scaled(180_000), hookTimeout: scaled(120_000) });
