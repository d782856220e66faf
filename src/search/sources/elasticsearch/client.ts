import fs from 'node:fs';
import { Client, ClientOptions } from '@elastic/elasticsearch';
import { z } from 'zod';
import { badRequest } from '../../../errors';
import { Config, loadConfig } from '../../../config';

/** How Aside reaches Elasticsearch (the ASIDE_ES_* settings of src/config.ts). */
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

type EsSettings = Pick<Config, 'esUrl' | 'esApiKey' | 'esUsername' | 'esPassword' | 'esCaCert' | 'esTlsInsecure' | 'esTimeoutMs' | 'esMaxRetries'>;

/** The Elasticsearch connection of a configuration, or undefined when ASIDE_ES_URL is not set. */
export function esConfigOf(c: EsSettings = loadConfig()): EsConfig | undefined {
  if (!c.esUrl) return undefined;
  const parsed = EsConfig.safeParse({
    url: c.esUrl,
    apiKey: c.esApiKey,
    username: c.esUsername,
    password: c.esPassword,
    caCertPath: c.esCaCert,
    tlsInsecure: c.esTlsInsecure,
    requestTimeoutMs: c.esTimeoutMs,
    maxRetries: c.esMaxRetries,
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
