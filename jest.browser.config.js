/**
 * The real-browser test (npm run test:browser): Debian's chromium driven by playwright-core
 * against a runtime in this process. Separate from `npm test` because it needs the chromium
 * package (.ci/run installs it) and takes ~20 s.
 */
const base = require('./jest.config');
const integration = base.projects.find((p) => p.displayName === 'integration');

module.exports = {
  testTimeout: 90_000,
  projects: [{ ...integration, displayName: 'browser', testMatch: ['<rootDir>/tests/browser/**/*.test.ts'] }],
};
