/** Setup file (vitest.config.ts `setupFiles`): after each test file, its temp state dirs go. */
import { afterAll } from 'vitest';
import { removeTempDirs } from './sender.ts';

afterAll(() => {
  removeTempDirs();
});
