import { z } from 'zod';

/** Server settings: environment variables (ASIDE_*) first, then command-line flags override them. */
const Config = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  model: z.string().optional(),
  collection: z.string().optional(),
  tasksDir: z.string().optional(),
  defaultRetriever: z.string().min(1).optional(),
  defaultReranker: z.string().min(1).optional(),
  adminApiKey: z.string().optional(),
  workers: z.coerce.number().int().min(0).max(64).default(2),
  threadsPerWorker: z.coerce.number().int().min(0).max(64).default(1),
  maxBatch: z.coerce.number().int().min(1).default(32),
  maxWaitMs: z.coerce.number().min(0).default(2),
  maxBatchTokens: z.coerce.number().int().min(1).default(16384),
  maxQueue: z.coerce.number().int().min(1).default(1024),
  maxInputs: z.coerce.number().int().min(1).default(256),
  maxRerankDocuments: z.coerce.number().int().min(1).default(1000),
  maxTextChars: z.coerce.number().int().min(1).default(100_000),
  cacheSize: z.coerce.number().int().min(0).default(10_000),
  cacheTtlMs: z.coerce.number().int().min(0).default(10 * 60_000),
  ef: z.coerce.number().int().min(1).default(200),
});
export type Config = z.infer<typeof Config>;

const ENV: Record<keyof Config, string> = {
  host: 'ASIDE_HOST',
  port: 'ASIDE_PORT',
  model: 'ASIDE_MODEL',
  collection: 'ASIDE_COLLECTION',
  tasksDir: 'ASIDE_TASKS_DIR',
  defaultRetriever: 'ASIDE_DEFAULT_RETRIEVER',
  defaultReranker: 'ASIDE_DEFAULT_RERANKER',
  adminApiKey: 'ASIDE_ADMIN_API_KEY',
  workers: 'ASIDE_WORKERS',
  threadsPerWorker: 'ASIDE_THREADS_PER_WORKER',
  maxBatch: 'ASIDE_MAX_BATCH',
  maxWaitMs: 'ASIDE_MAX_WAIT_MS',
  maxBatchTokens: 'ASIDE_MAX_BATCH_TOKENS',
  maxQueue: 'ASIDE_MAX_QUEUE',
  maxInputs: 'ASIDE_MAX_INPUTS',
  maxRerankDocuments: 'ASIDE_MAX_RERANK_DOCUMENTS',
  maxTextChars: 'ASIDE_MAX_TEXT_CHARS',
  cacheSize: 'ASIDE_CACHE_SIZE',
  cacheTtlMs: 'ASIDE_CACHE_TTL_MS',
  ef: 'ASIDE_EF',
};

export function loadConfig(overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, env] of Object.entries(ENV)) if (process.env[env] !== undefined && process.env[env] !== '') raw[key] = process.env[env];
  for (const [key, v] of Object.entries(overrides)) if (v !== undefined) raw[key] = v;
  const parsed = Config.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
