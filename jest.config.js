/** Tests run against the TypeScript sources through ts-jest; integration tests spawn the compiled dist/ entrypoints that `npm test` builds first. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 30000,
};
