/** Two tiers: unit (pure code, no I/O) and integration (real Redis, real HTTP/WS on port 0). */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
const common = {
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/tests/support/onnx-realm.ts'],
  // Jest's transform cache lives with the project, not in the system temp dir.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
};
module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/unit-global-setup.ts',
      globalTeardown: '<rootDir>/tests/support/unit-global-teardown.ts',
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
    },
  ],
};
