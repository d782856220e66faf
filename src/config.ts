import { z } from 'zod';

/**
 * Every setting of Aside in one table: its environment variable, its validation and its meaning.
 * `loadConfig()` reads the ASIDE_* environment, lets command-line flags override it, and validates
 * the whole; `setting()` reads one value where a whole config is not at hand (paths, logging, tools).
 * Nothing else in src/ or tools/ reads an ASIDE_* variable; README's settings table is generated from
 * this one (`npm run config:docs`) and a test checks it stays complete.
 */
type Group = 'server' | 'limits' | 'inference' | 'paths' | 'elasticsearch' | 'tools';

interface Setting<S extends z.ZodType = z.ZodType> {
  env: string;
  group: Group;
  schema: S;
  doc: string;
}

const int = (min = 0) => z.coerce.number().int().min(min);
const flag = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no'])]).transform((v) => v === true || v === '1' || v === 'true' || v === 'yes');
const def = <S extends z.ZodType>(env: string, group: Group, schema: S, doc: string): Setting<S> => ({ env, group, schema, doc });

export const SETTINGS = {
  host: def('ASIDE_HOST', 'server', z.string().default('127.0.0.1'), 'address the HTTP server binds'),
  port: def('ASIDE_PORT', 'server', int().max(65535).default(8080), 'HTTP port (0: any free port)'),
  model: def('ASIDE_MODEL', 'server', z.string().optional(), 'backbone: a catalog id or a Hugging Face model directory (default: the catalog default)'),
  collection: def('ASIDE_COLLECTION', 'server', z.string().optional(), 'BEIR collection directory served by `/v1/search` dense candidates'),
  tasksDir: def('ASIDE_TASKS_DIR', 'server', z.string().optional(), 'models root: task directories to load and the only place `PUT /v1/tasks` may read (default: the shipped models/tasks)'),
  defaultRetriever: def('ASIDE_DEFAULT_RETRIEVER', 'server', z.string().min(1).optional(), 'task used when a request names none (retrievers; must be loaded)'),
  defaultReranker: def('ASIDE_DEFAULT_RERANKER', 'server', z.string().min(1).optional(), 'task used by `rerank: {}` and `/v1/rerank` without a task (must be loaded)'),
  shutdownGraceMs: def('ASIDE_SHUTDOWN_GRACE_MS', 'server', int().default(10_000), 'on SIGTERM, how long requests in flight may take to finish before the process exits'),
  adminApiKey: def('ASIDE_ADMIN_API_KEY', 'server', z.string().min(1).optional(), 'enables the admin API (`PUT`/`DELETE /v1/tasks`); sent as `Authorization: Bearer <key>`'),
  bodyTimeoutMs: def('ASIDE_BODY_TIMEOUT_MS', 'server', int(1).default(120_000), 'time a client has to send a whole request, body included (then 408)'),
  headersTimeoutMs: def('ASIDE_HEADERS_TIMEOUT_MS', 'server', int(1).default(10_000), 'time a client has to send its request headers'),
  keepAliveTimeoutMs: def('ASIDE_KEEP_ALIVE_TIMEOUT_MS', 'server', int(1).default(5_000), 'how long an idle keep-alive connection stays open'),
  maxConnections: def('ASIDE_MAX_CONNECTIONS', 'server', int(1).default(1024), 'open sockets; more are closed at once'),
  workers: def('ASIDE_WORKERS', 'inference', int().max(64).default(2), 'inference worker threads (0: run in the main thread)'),
  threadsPerWorker: def('ASIDE_THREADS_PER_WORKER', 'inference', int().max(64).default(1), 'onnxruntime intra-op threads per worker (0: onnxruntime decides)'),
  provider: def('ASIDE_PROVIDER', 'inference', z.enum(['cpu', 'cuda']).default('cpu'), 'execution provider; cuda falls back to cpu with a logged warning'),
  intraOpThreads: def('ASIDE_INTRA_OP_THREADS', 'inference', int().max(64).default(0), 'intra-op threads of sessions made outside the worker pool (0: onnxruntime decides)'),
  intraOpSpinning: def('ASIDE_INTRA_OP_SPINNING', 'inference', flag.default(false), 'let onnxruntime threads spin while idle (faster bursts, burns CPU)'),
  graphOptimization: def('ASIDE_GRAPH_OPT', 'inference', z.enum(['disabled', 'basic', 'extended', 'all']).default('all'), 'onnxruntime graph optimisation level'),
  lazySessions: def('ASIDE_LAZY_SESSIONS', 'inference', flag.default(true), "open a task graph's onnxruntime session at its first forward pass on a worker, not at load (docs/serving.md, Memory)"),
  cpuArena: def(
    'ASIDE_CPU_ARENA',
    'inference',
    flag.default(false),
    "onnxruntime's CPU memory arena: about 3x faster 100-document re-ranks, but every session keeps its peak activations (peak RSS 1.65 GB vs 1.1 GB, bench s10)",
  ),
  memPattern: def('ASIDE_MEM_PATTERN', 'inference', flag.default(false), 'onnxruntime memory patterns (pre-planned activation blocks per input shape)'),
  maxBatch: def('ASIDE_MAX_BATCH', 'limits', int(1).default(32), 'rows per forward pass'),
  maxWaitMs: def('ASIDE_MAX_WAIT_MS', 'limits', z.coerce.number().min(0).default(0), 'accepted and ignored: the scheduler forms a batch as soon as a worker is free'),
  maxBatchTokens: def('ASIDE_MAX_BATCH_TOKENS', 'limits', int(1).default(16384), 'padded tokens per forward pass'),
  mixedBatches: def(
    'ASIDE_MIXED_BATCHES',
    'limits',
    z.enum(['auto', 'on', 'off', '1', '0', 'true', 'false']).default('auto'),
    "rows of different tasks of one kind and module shape share a forward pass on the kind's stacked graph: on, off, or auto = on with the cuda provider only (on CPU it measured no clear gain, bench s6; docs/serving.md, Mixed-task batches)",
  ),
  maxQueue: def('ASIDE_MAX_QUEUE', 'limits', int(1).default(1024), 'rows admitted at once (queued, in flight or being tokenised; all tasks together) before requests get 429'),
  requestTimeoutMs: def(
    'ASIDE_REQUEST_TIMEOUT_MS',
    'limits',
    int().default(30_000),
    'longest a request may take before 504 (0: no limit); a request may ask for less with `X-Request-Timeout` or `timeout`',
  ),
  maxInputs: def('ASIDE_MAX_INPUTS', 'limits', int(1).default(256), 'texts per embed request'),
  maxRerankDocuments: def('ASIDE_MAX_RERANK_DOCUMENTS', 'limits', int(1).default(1000), 'documents per re-rank request'),
  maxTextChars: def('ASIDE_MAX_TEXT_CHARS', 'limits', int(1).default(100_000), 'characters per text'),
  cacheSize: def('ASIDE_CACHE_SIZE', 'limits', int().default(10_000), 'query embeddings cached (0: off)'),
  cacheTtlMs: def('ASIDE_CACHE_TTL_MS', 'limits', int().default(10 * 60_000), 'lifetime of a cached query embedding'),
  ef: def('ASIDE_EF', 'limits', int(1).default(200), 'HNSW search breadth (ef)'),
  home: def('ASIDE_HOME', 'paths', z.string().optional(), 'where downloads, graphs, indexes and results live (default: .aside in the repository)'),
  modelsDir: def('ASIDE_MODELS_DIR', 'paths', z.string().optional(), 'fetched backbones (default: $ASIDE_HOME/models)'),
  graphsDir: def('ASIDE_GRAPHS_DIR', 'paths', z.string().optional(), 'module graphs (default: $ASIDE_HOME/graphs)'),
  logLevel: def('ASIDE_LOG_LEVEL', 'paths', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(), 'log level (default: info; warn under jest)'),
  esUrl: def('ASIDE_ES_URL', 'elasticsearch', z.url().optional(), 'Elasticsearch URL; enables the elasticsearch, hybrid and elasticsearch-knn candidates'),
  esApiKey: def('ASIDE_ES_API_KEY', 'elasticsearch', z.string().min(1).optional(), 'Elasticsearch API key (encoded form)'),
  esUsername: def('ASIDE_ES_USERNAME', 'elasticsearch', z.string().min(1).optional(), 'basic-auth user (instead of an API key)'),
  esPassword: def('ASIDE_ES_PASSWORD', 'elasticsearch', z.string().optional(), 'basic-auth password'),
  esCaCert: def('ASIDE_ES_CA_CERT', 'elasticsearch', z.string().min(1).optional(), 'PEM CA certificate for https'),
  esTlsInsecure: def('ASIDE_ES_TLS_INSECURE', 'elasticsearch', flag.default(false), 'skip TLS verification (development only)'),
  esTimeoutMs: def('ASIDE_ES_TIMEOUT_MS', 'elasticsearch', int(1).default(10_000), 'per-request timeout'),
  esMaxRetries: def('ASIDE_ES_MAX_RETRIES', 'elasticsearch', int().default(1), 'client retries on connection errors'),
  esBreakerMs: def('ASIDE_ES_BREAKER_MS', 'elasticsearch', int().default(10_000), 'after Elasticsearch is found unreachable, fail its calls at once (503) for this long; `/ready` shows the circuit'),
  esIndex: def('ASIDE_ES_INDEX', 'elasticsearch', z.string().min(1).optional(), 'index searched (default: aside-<collection>, as `npm run es -- index` writes)'),
  esFields: def('ASIDE_ES_FIELDS', 'elasticsearch', z.string().min(1).optional(), 'comma-separated BM25 fields, boosts allowed (default: title,text)'),
  esQueryTemplate: def('ASIDE_ES_QUERY_TEMPLATE', 'elasticsearch', z.string().min(1).optional(), 'query JSON with "{{query}}" replacing the default multi_match'),
  esVersion: def('ASIDE_ES_VERSION', 'tools', z.string().optional(), '`npm run es`: Elasticsearch version of the local node (default 9.3.2)'),
  esPort: def('ASIDE_ES_PORT', 'tools', int().max(65535).optional(), '`npm run es -- start`: HTTP port (default: a free one)'),
  esHeap: def(
    'ASIDE_ES_HEAP',
    'tools',
    z
      .string()
      .regex(/^\d+[kmg]$/i)
      .optional(),
    '`npm run es`: JVM heap of the local node (default 512m)',
  ),
  esRunAs: def('ASIDE_ES_RUN_AS', 'tools', z.string().min(1).optional(), '`npm run es`: user the node runs as when started by root (default nobody)'),
  esPluginAsideUrl: def('ASIDE_ES_PLUGIN_ASIDE_URL', 'tools', z.url().optional(), '`npm run es -- start`: `aside.url` of the Aside plugin in the local node (default http://127.0.0.1:8080)'),
  esStartTimeoutMs: def('ASIDE_ES_START_TIMEOUT_MS', 'tools', int(1).optional(), '`npm run es`: how long to wait for the node (default 120000)'),
  jvmDir: def('ASIDE_JVM_DIR', 'tools', z.string().optional(), 'where JDKs are looked for (default /usr/lib/jvm; ES_JAVA_HOME wins)'),
  mvn: def('ASIDE_MVN', 'tools', z.string().optional(), 'Maven command used for downloads (default mvn)'),
  registerApiKey: def('ASIDE_API_KEY', 'tools', z.string().optional(), '`npm run es -- register-inference`: the key Elasticsearch sends to Aside'),
} satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;
type Out<K extends SettingKey> = z.output<(typeof SETTINGS)[K]['schema']>;
export type Config = { [K in SettingKey]: Out<K> };

const issues = (e: z.ZodError, env: string) => e.issues.map((i) => `${env}${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`).join('; ');

function rawValue(key: SettingKey, env: NodeJS.ProcessEnv): string | undefined {
  const v = env[SETTINGS[key].env];
  return v === undefined || v === '' ? undefined : v;
}

/** One setting from the environment, validated (throws naming the variable when invalid). */
export function setting<K extends SettingKey>(key: K, env: NodeJS.ProcessEnv = process.env): Out<K> {
  const s = SETTINGS[key];
  const r = s.schema.safeParse(rawValue(key, env));
  if (!r.success) throw new Error(`invalid configuration: ${issues(r.error, s.env)}`);
  return r.data as Out<K>;
}

/** The whole configuration: ASIDE_* variables, then the given overrides (command-line flags, tests). */
export function loadConfig(overrides: Partial<Record<SettingKey, unknown>> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  const bad: string[] = [];
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const raw = overrides[key] !== undefined ? overrides[key] : rawValue(key, env);
    const r = SETTINGS[key].schema.safeParse(raw);
    if (r.success) out[key] = r.data;
    else bad.push(issues(r.error, SETTINGS[key].env));
  }
  if (bad.length) throw new Error(`invalid configuration: ${bad.join('; ')}`);
  return out as Config;
}

/** README's settings table, grouped (printed by `npm run config:docs`). */
export function settingsTable(): string {
  const rows = (Object.entries(SETTINGS) as [SettingKey, Setting][]).map(([, s]) => {
    const d = s.schema.safeParse(undefined);
    const dflt = d.success && d.data !== undefined ? `\`${String(d.data)}\`` : '';
    return `| \`${s.env}\` | ${s.group} | ${dflt} | ${s.doc} |`;
  });
  return ['| variable | group | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
