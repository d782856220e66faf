import fs from 'node:fs';
import { Client, ClientOptions } from '@elastic/elasticsearch';
import { z } from 'zod';
import { badRequest } from '../errors';

/**
 * How Aside reaches Elasticsearch. Read from the environment by `esConfigFromEnv()`:
 *   ASIDE_ES_URL               http(s)://host:9200 (required to use Elasticsearch at all)
 *   ASIDE_ES_API_KEY           API key (the base64 "encoded" form), or
 *   ASIDE_ES_USERNAME / ASIDE_ES_PASSWORD   basic auth
 *   ASIDE_ES_CA_CERT           path to a PEM CA certificate for https
 *   ASIDE_ES_TLS_INSECURE=1    skip TLS certificate verification (development only)
 *   ASIDE_ES_TIMEOUT_MS        per-request timeout (default 10000)
 *   ASIDE_ES_MAX_RETRIES       client retries on connection errors (default 1)
 */
export const EsConfig = z
  .object({
    url: z.string().url(),
    apiKey: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    caCertPath: z.string().min(1).optional(),
    tlsInsecure: z.boolean().default(false),
    requestTimeoutMs: z.number().int().positive().default(10000),
    maxRetries: z.number().int().min(0).default(1),
  })
  .refine((c) => !(c.apiKey && c.username), { message: 'set either an API key or username/password, not both' })
  .refine((c) => c.password === undefined || c.username !== undefined, { message: 'a password needs a username' });
export type EsConfig = z.infer<typeof EsConfig>;

const truthy = (v?: string) => v !== undefined && /^(1|true|yes)$/i.test(v);
const num = (v?: string) => (v === undefined || v === '' ? undefined : Number(v));

/** The config from ASIDE_ES_* variables, or undefined when ASIDE_ES_URL is not set. */
export function esConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EsConfig | undefined {
  if (!env.ASIDE_ES_URL) return undefined;
  const parsed = EsConfig.safeParse({
    url: env.ASIDE_ES_URL,
    apiKey: env.ASIDE_ES_API_KEY || undefined,
    username: env.ASIDE_ES_USERNAME || undefined,
    password: env.ASIDE_ES_PASSWORD,
    caCertPath: env.ASIDE_ES_CA_CERT || undefined,
    tlsInsecure: truthy(env.ASIDE_ES_TLS_INSECURE),
    requestTimeoutMs: num(env.ASIDE_ES_TIMEOUT_MS),
    maxRetries: num(env.ASIDE_ES_MAX_RETRIES),
  });
  if (!parsed.success) throw badRequest(`invalid Elasticsearch configuration: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Client options for a config; exposed so callers can add their own (e.g. a custom Connection). */
export function clientOptions(input: Partial<EsConfig> & { url: string }): ClientOptions {
  const c = EsConfig.parse(input);
  const opts: ClientOptions = { node: c.url, requestTimeout: c.requestTimeoutMs, maxRetries: c.maxRetries };
  if (c.apiKey) opts.auth = { apiKey: c.apiKey };
  else if (c.username) opts.auth = { username: c.username, password: c.password ?? '' };
  if (c.caCertPath || c.tlsInsecure) {
    if (c.caCertPath && !fs.existsSync(c.caCertPath)) throw badRequest(`ASIDE_ES_CA_CERT: ${c.caCertPath} does not exist`);
    opts.tls = { ...(c.caCertPath ? { ca: fs.readFileSync(c.caCertPath) } : {}), rejectUnauthorized: !c.tlsInsecure };
  }
  return opts;
}

/** An @elastic/elasticsearch client for a config (or a bare URL). */
export function createEsClient(config: (Partial<EsConfig> & { url: string }) | string): Client {
  return new Client(clientOptions(typeof config === 'string' ? { url: config } : config));
}
