/**
 * Smoke test of the benchmark suite: every scenario starts, runs at smoke size (--tiny: one round on
 * a handful of inputs, servers on loopback) and returns a well-formed entry. Figures are not checked:
 * benchmarks are not part of the test suite, `npm run bench` is. Its peers run Python (bench/peers/ort_peer.py),
 * so this file runs in the training step (`npm run test:python`), not in `npm test`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

test('every bench scenario runs at smoke size and writes a well-formed entry', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aside-bench-smoke-')), 'results.json');
  try {
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'bench', 'run.ts'), '--tiny', '--no-doc', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, ASIDE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
    const results = JSON.parse(fs.readFileSync(out, 'utf8'));
    const ids = results.entries.map((e: { scenario: string }) => e.scenario);
    expect(ids).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7', 'opt', 's8', 's9', 's10']);
    for (const e of results.entries) {
      expect(typeof e.title).toBe('string');
      expect(typeof e.peer).toBe('string');
      expect(Object.keys(e.ratio).length).toBeGreaterThan(0);
      for (const v of Object.values(e.ratio)) expect(Number.isFinite(v)).toBe(true);
      expect(e.tables.length).toBeGreaterThan(0);
      expect([true, false, null]).toContain(e.met);
    }
    expect(results.machine.cores).toBeGreaterThan(0);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}, 250_000);
