import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** docs/search-results.md is a generated table above hand-written analysis: regenerating must keep the analysis. */
const MARKER = '<!-- written by hand below this line: kept when the table above is regenerated -->';
const script = path.join(__dirname, '..', 'scripts', 'searchTable.ts');
const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const row = { collection: 'c', candidates: 'elasticsearch', 'ndcg@10': 0.5, 'recall@100': 0.9, 'mrr@10': 0.4, queries: 3, seconds: 1, at: '2026-11-25T00:00:00Z' };

describe('search results page', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-table-'));
  const store = path.join(dir, 'eval.jsonl');
  fs.writeFileSync(store, JSON.stringify(row) + '\n');
  const render = (page: string) => spawnSync(tsx, [script, store, page], { encoding: 'utf8' });

  it('rewrites the table and keeps everything below the marker', () => {
    const page = path.join(dir, 'kept.md');
    fs.writeFileSync(page, `# old table\n\n| stale |\n\n${MARKER}\nAnalysis written by hand.\n`);
    expect(render(page).status).toBe(0);
    const text = fs.readFileSync(page, 'utf8');
    expect(text).toContain('| c | BM25 (Elasticsearch) | 0.5000 |');
    expect(text).not.toContain('| stale |');
    expect(text.endsWith(`${MARKER}\nAnalysis written by hand.\n`)).toBe(true);
  });

  it('refuses to overwrite a page without the marker', () => {
    const page = path.join(dir, 'unmarked.md');
    fs.writeFileSync(page, 'hand-written only\n');
    const r = render(page);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('refusing to overwrite');
    expect(fs.readFileSync(page, 'utf8')).toBe('hand-written only\n');
  });
});
