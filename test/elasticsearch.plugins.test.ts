/** The shipped Elasticsearch JSON (plugins/elasticsearch) parses and fills in Aside's URL, key and task. */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths';
import { endpointBodies } from '../tools/elasticsearch/inferenceEndpoints';

const dir = path.join(REPO_ROOT, 'plugins', 'elasticsearch');
const jsonFiles = (d: string): string[] =>
  fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(d, e.name)) : e.name.endsWith('.json') ? [path.join(d, e.name)] : []));

test('every plugin JSON file parses', () => {
  const files = jsonFiles(dir);
  expect(files.length).toBeGreaterThanOrEqual(10);
  for (const f of files) expect(() => JSON.parse(fs.readFileSync(f, 'utf8'))).not.toThrow();
});

test('hugging_face endpoints point at /v1/embed and the TEI /rerank', () => {
  const { embed, rerank } = endpointBodies({ asideUrl: 'http://127.0.0.1:8080/', apiKey: 'k1' });
  expect(embed).toMatchObject({ service: 'hugging_face', service_settings: { url: 'http://127.0.0.1:8080/v1/embed', api_key: 'k1' } });
  expect(rerank).toMatchObject({ service: 'hugging_face', service_settings: { url: 'http://127.0.0.1:8080/rerank', api_key: 'k1' } });
});

test('custom endpoints map input_type and the task onto the OpenAI / Cohere shapes', () => {
  const { embed, rerank } = endpointBodies({ asideUrl: 'http://aside:9000', service: 'custom', task: 'nfcorpus' }) as Record<string, any>;
  expect(embed.service_settings.url).toBe('http://aside:9000/v1/embeddings');
  expect(embed.service_settings.input_type.translation).toEqual({ ingest: 'document', search: 'query' });
  expect(embed.service_settings.request).toContain('${input_type}');
  expect(embed.task_settings.parameters.task).toBe('nfcorpus');
  expect(embed.service_settings.secret_parameters.api_key).toBe('none');
  expect(rerank.service_settings.url).toBe('http://aside:9000/v2/rerank');
  expect(rerank.service_settings.response.json_parser).toEqual({ reranked_index: '$.results[*].index', relevance_score: '$.results[*].relevance_score' });
  // With the template values substituted as Elasticsearch does (JSON-encoded), the request is valid JSON.
  const req = (embed.service_settings.request as string).replace('${input}', '["a"]').replace('${input_type}', '"query"').replace('${task}', '"nfcorpus"');
  expect(JSON.parse(req)).toEqual({ input: ['a'], input_type: 'query', model: 'nfcorpus' });
});
