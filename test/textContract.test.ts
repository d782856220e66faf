import fs from 'node:fs';
import path from 'node:path';
import { joinDocument, withPrefix } from '../src/text/documentText';
import { pool } from '../src/inference/pooling';
import { catalogEntry } from '../src/models/catalog';
import { Manifest, poolingOf } from '../src/tasks/manifest';
import { validateManifestJson } from './helpers/manifestCheck';

/**
 * The text contract: training's answers (test/fixtures/text-contract.json, written by
 * `python -m aside_training.contract_fixture` and checked against training by its pytest) must be the
 * server's answers. If either side joins, prefixes or pools differently, one of the two suites fails.
 */
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'text-contract.json'), 'utf8'));
type Case = {
  contract: { text: { titleSeparator: string }; prefixes: { query: string; document: string }; pooling: 'mean' | 'cls'; normalize: boolean };
  documents: string[];
  queries: string[];
  pooled: number[][];
};

describe('text contract: serving answers as training does', () => {
  test.each((fixture.cases as Case[]).map((c) => [JSON.stringify(c.contract), c] as [string, Case]))('%s', (_name, c) => {
    const docs = fixture.inputs.documents.map((d: { title: string; text: string }) => withPrefix(c.contract.prefixes, 'document', joinDocument(d, c.contract.text)));
    expect(docs).toEqual(c.documents);
    expect(['vitamin d and cancer'].map((q) => withPrefix(c.contract.prefixes, 'query', q))).toEqual(c.queries);

    const hidden: number[][][] = fixture.inputs.hidden;
    const [batch, seq, dim] = [hidden.length, hidden[0].length, hidden[0][0].length];
    const mask = BigInt64Array.from(fixture.inputs.mask.flat().map((v: number) => BigInt(v)));
    const pooled = pool(Float32Array.from(hidden.flat(2)), mask, batch, seq, dim, c.contract.pooling, c.contract.normalize);
    pooled.forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo(c.pooled[i][j], 5)));
  });

  const shipped = path.join(__dirname, '..', 'models', 'tasks');
  test.each(fs.readdirSync(shipped))("shipped task %s carries training's contract and it is what the server uses", (id) => {
    const m: Manifest = validateManifestJson(fs.readFileSync(path.join(shipped, id, 'manifest.json'), 'utf8'));
    const backbone = catalogEntry(m.backbone.id);
    // A task with no module (late interaction on the bare backbone) was never trained: it reads documents as the backbone does.
    expect(m.text.titleSeparator).toBe(m.graph ? fixture.trainingTitleSeparator : backbone.titleSeparator);
    expect(m.prefixes).toEqual(backbone.prefixes);
    if (m.role === 'retriever') expect([poolingOf(m), m.normalize]).toEqual([backbone.pooling, backbone.normalize]);
  });

  test('a manifest without a text contract is refused with a message that says what is missing', () => {
    const m = JSON.parse(fs.readFileSync(path.join(shipped, 'scifact-iaa-l-retriever', 'manifest.json'), 'utf8'));
    delete m.text;
    const r = Manifest.safeParse(m);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('titleSeparator');
  });
});
