/**
 * Tests run against the real model, a real HTTP server and (for Elasticsearch features) a real node.
 * test/python/ needs training's Python environment (benchmark peers): `npm run test:python`, the CI training step.
 */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: '<rootDir>/test/helpers/environment.js',
  roots: ['<rootDir>/test'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/python/'],
  testTimeout: 120000,
  maxWorkers: 1,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { ...require('./tsconfig.json').compilerOptions, rootDir: '.' }, diagnostics: { warnOnly: false } }] },
};
