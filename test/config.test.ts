import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, setting, SETTINGS, settingsTable } from '../src/config';

const ROOT = path.join(__dirname, '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('configuration: one validated, documented object', () => {
  test("README's settings table is the generated one (npm run config:docs)", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split('<!-- settings:start -->')[1]?.split('<!-- settings:end -->')[0]?.trim();
    expect(section).toBe(settingsTable());
  });

  test('no file in src/ or tools/ reads an ASIDE_* variable except src/config.ts', () => {
    const readers = [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'tools'))]
      .filter((f) => !f.endsWith(path.join('src', 'config.ts')))
      .filter((f) => /env(\.|\[['"`])ASIDE_/.test(fs.readFileSync(f, 'utf8')));
    expect(readers.map((f) => path.relative(ROOT, f))).toEqual([]);
  });

  test('an invalid value is refused with the variable name; flags override the environment', () => {
    expect(() => loadConfig({}, { ASIDE_GRAPH_OPT: 'fastest' })).toThrow(/ASIDE_GRAPH_OPT/);
    expect(() => loadConfig({}, { ASIDE_WORKERS: 'two' })).toThrow(/ASIDE_WORKERS/);
    expect(() => setting('esUrl', { ASIDE_ES_URL: 'not a url' })).toThrow(/ASIDE_ES_URL/);
    expect(loadConfig({ port: 9000 }, { ASIDE_PORT: '8081' }).port).toBe(9000);
    expect(loadConfig({}, { ASIDE_PORT: '8081', ASIDE_INTRA_OP_SPINNING: '1' })).toMatchObject({ port: 8081, intraOpSpinning: true });
    expect(loadConfig({}, {})).toMatchObject({ port: 8080, workers: 2, intraOpSpinning: false, graphOptimization: 'all' });
  });

  test('every variable is named ASIDE_* and named once', () => {
    const envs = Object.values(SETTINGS).map((s) => s.env);
    expect(envs.every((e) => /^ASIDE_[A-Z_]+$/.test(e))).toBe(true);
    expect(new Set(envs).size).toBe(envs.length);
  });
});
