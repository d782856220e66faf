import path from 'node:path';
import { setting } from './config';

/** Repository root (works from src/ under tsx/ts-jest and from dist/src/ after a build). */
export const REPO_ROOT = (() => {
  const here = __dirname;
  const marker = `${path.sep}dist${path.sep}`;
  const cut = here.lastIndexOf(marker);
  return cut >= 0 ? here.slice(0, cut) : path.resolve(here, '..');
})();

/** Everything Aside downloads or builds lives here, never in git. */
export function asideHome(): string {
  return path.resolve(setting('home') ?? path.join(REPO_ROOT, '.aside'));
}

export const modelsDir = (): string => path.resolve(setting('modelsDir') ?? path.join(asideHome(), 'models'));
export const indexesDir = (): string => path.join(asideHome(), 'indexes');
export const catalogPath = (): string => path.join(REPO_ROOT, 'models', 'catalog.json');
export const demoCollectionDir = (): string => path.join(REPO_ROOT, 'demo', 'scifact-mini');
export const graphsDir = (): string => path.resolve(setting('graphsDir') ?? path.join(asideHome(), 'graphs'));
/** Committed weight-free graph templates (training/aside_training/templates.py writes them). */
export const templatesDir = (): string => path.join(REPO_ROOT, 'models', 'graphs');
export const shippedTasksDir = (): string => path.join(REPO_ROOT, 'models', 'tasks');
/**
 * Defaults when the shipped directory is served: the bare backbone retrieves (general-purpose, and
 * what the base parity tests pin); zero-shot late interaction re-ranks (it improves BM25 and dense
 * candidates on every collection measured, docs/search-results.md; the cross-encoder does not).
 */
export const SHIPPED_DEFAULT_TASKS = { retriever: 'base', reranker: 'minilm-late-interaction' } as const;
