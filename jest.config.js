/** Tests run against the real model, a real HTTP server and (for Elasticsearch features) a real node. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: '<rootDir>/test/helpers/environment.js',
  roots: ['<rootDir>/test'],
  testTimeout: 120000,
  maxWorkers: 1,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { ...require('./tsconfig.json').compilerOptions, rootDir: '.' }, diagnostics: { warnOnly: false } }] },
};
