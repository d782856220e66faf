/** The TypeScript tests that need training's Python environment (benchmark peers); run by the CI training step. */
const base = require('./jest.config.js');

module.exports = { ...base, roots: ['<rootDir>/test/python'], testPathIgnorePatterns: ['/node_modules/'] };
