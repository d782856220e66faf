#!/usr/bin/env node
/**
 * `npm run es -- start|stop|status`: manages the local single-node Elasticsearch (fetched through Maven
 * on first use, cached in $ASIDE_HOME/elasticsearch). `start` prints the URL on stdout, so
 * `export ASIDE_ES_URL=$(npm run -s es -- start)` works.
 */
import { parseArgs } from 'node:util';
import { log } from '../../src/log';
import { setting } from '../../src/config';
import { loadCollection } from '../../src/data/beir';
import { score, Run } from '../../src/eval/metrics';
import { managedNodeStatus, startManagedNode, stopManagedNode } from './localNode';
import { createEsClient, esConfigOf } from '../../src/search/sources/elasticsearch/client';
import { indexCollection } from './corpusIndexer';
import { defaultIndexName } from '../../src/search/sources/elasticsearch/indexName';
import { ElasticsearchCandidates } from '../../src/search/sources/elasticsearch/bm25Candidates';
import { registerAside, InferenceService } from './inferenceEndpoints';
import { writeTaskVectors } from './taskVectors';
import { buildPlugin } from './plugin';

const USAGE = `usage: npm run es -- <command>
  start    start the local Elasticsearch (or report the running one); prints its URL
  stop     stop it
  plugin build   build the Aside plugin zip with Maven (plugins/elasticsearch; needs mvn and a JDK >= 21);
                 \`start\` installs it when built (ASIDE_ES_PLUGIN_ASIDE_URL sets the plugin's aside.url)
  status   show whether it runs, its URL and cluster health
  index --collection <dir> [--index name]       bulk-index a BEIR collection (ASIDE_ES_URL, else the local node)
  bm25-eval --collection <dir> [--index name] [--reindex]
           BM25 nDCG@10 / R@100 of Elasticsearch on the collection's test queries (last line: JSON)
  vectors --collection <dir> [--index name] [--task id] [--model id]
           write each document's task embedding into a dense_vector field (vec_<task>_<version>) for kNN candidates
  register-inference --aside-url <url> [--service hugging_face|custom] [--api-key k] [--task t]
           PUT _inference/text_embedding/aside-embed and _inference/rerank/aside-rerank (needs the inference plugin)
env: ASIDE_ES_PORT (default: a free port), ASIDE_ES_HEAP (512m), ASIDE_ES_VERSION, ES_JAVA_HOME (JDK >= 21), ASIDE_ES_RUN_AS (when root)
`;

/** ASIDE_ES_URL when set, else the running local node. */
async function client() {
  const cfg = esConfigOf();
  if (cfg) return createEsClient(cfg);
  const st = await managedNodeStatus();
  if (!st.running || !st.url) throw new Error('set ASIDE_ES_URL or run `npm run es -- start` first');
  return createEsClient(st.url);
}

async function main(): Promise<void> {
  const cmd = process.argv[2];
  const { values, positionals } = parseArgs({
    args: process.argv.slice(3),
    options: {
      collection: { type: 'string' },
      index: { type: 'string' },
      reindex: { type: 'boolean', default: false },
      split: { type: 'string', default: 'test' },
      'aside-url': { type: 'string' },
      service: { type: 'string', default: 'hugging_face' },
      'api-key': { type: 'string' },
      task: { type: 'string' },
      model: { type: 'string' },
    },
    allowPositionals: true,
  });
  switch (cmd) {
    case 'index': {
      if (!values.collection) throw new Error('index needs --collection <dir>');
      const r = await indexCollection(await client(), values.collection, { index: values.index });
      process.stdout.write(JSON.stringify({ index: r.index, docs: r.written, retried: r.retried, ms: r.ms }) + '\n');
      return;
    }
    case 'vectors': {
      if (!values.collection) throw new Error('vectors needs --collection <dir>');
      const col = await loadCollection(values.collection, values.split);
      const r = await writeTaskVectors(await client(), col, { index: values.index ?? defaultIndexName(col.name), task: values.task, model: values.model });
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    case 'register-inference': {
      if (!values['aside-url']) throw new Error('register-inference needs --aside-url (Aside as Elasticsearch reaches it)');
      if (values.service !== 'hugging_face' && values.service !== 'custom') throw new Error('--service is hugging_face or custom');
      const r = await registerAside(await client(), {
        asideUrl: values['aside-url'],
        service: values.service as InferenceService,
        apiKey: values['api-key'] ?? setting('registerApiKey'),
        task: values.task,
      });
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    case 'bm25-eval': {
      if (!values.collection) throw new Error('bm25-eval needs --collection <dir>');
      const es = await client();
      const col = await loadCollection(values.collection, values.split);
      const index = values.index ?? defaultIndexName(col.name);
      const count = (await es.indices.exists({ index })) ? (await es.count({ index })).count : -1;
      if (values.reindex || count !== col.docs.length) await indexCollection(es, col, { index });
      const bm25 = new ElasticsearchCandidates(es, { index });
      const run: Run = new Map();
      const t0 = Date.now();
      for (const q of col.queries)
        run.set(
          q.id,
          (await bm25.search(q.text, 100)).map((h) => h.id),
        );
      const s = score(run, col.qrels);
      process.stdout.write(JSON.stringify({ collection: col.name, index, candidates: 'elasticsearch', ...s, ms_per_query: Math.round(((Date.now() - t0) / col.queries.length) * 10) / 10 }) + '\n');
      return;
    }
    case 'plugin': {
      if (positionals[0] !== 'build') throw new Error('usage: npm run es -- plugin build');
      process.stdout.write(`${await buildPlugin()}\n`);
      return;
    }
    case 'start': {
      const st = await startManagedNode();
      process.stderr.write(`${st.alreadyRunning ? 'already running' : 'started'}: Elasticsearch ${st.version} pid ${st.pid}, health ${st.health}, data in ${st.dir}\n`);
      process.stdout.write(`${st.url}\n`);
      return;
    }
    case 'stop': {
      const r = await stopManagedNode();
      process.stderr.write(r.stopped ? `stopped Elasticsearch (pid ${r.pid})\n` : 'Elasticsearch was not running\n');
      return;
    }
    case 'status': {
      const st = await managedNodeStatus();
      process.stdout.write(st.running ? `running ${st.url} pid ${st.pid} version ${st.version} health ${st.health}\n` : 'stopped\n');
      process.exitCode = st.running ? 0 : 3;
      return;
    }
    default:
      process.stderr.write(USAGE);
      process.exitCode = cmd ? 2 : 0;
  }
}

main().catch((err: Error) => {
  log.error({ err: err.message }, 'es command failed');
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
});
