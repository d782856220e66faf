import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { REPO_ROOT } from '../../src/paths';
import { fromEsError } from '../../src/search/sources/elasticsearch/errors';

/**
 * Registers Aside as Elasticsearch inference endpoints from the JSON in plugins/elasticsearch/inference:
 * `PUT _inference/text_embedding/aside-embed` and `PUT _inference/rerank/aside-rerank`. Needs an
 * Elasticsearch with the inference plugin (the default distribution or Docker image; the integ-test-zip
 * used by tests has none). Elasticsearch calls Aside once while handling the PUT, so Aside must be
 * reachable from Elasticsearch at `asideUrl`.
 */
export type InferenceService = 'hugging_face' | 'custom';

export interface EndpointOptions {
  /** Aside as Elasticsearch sees it, e.g. http://aside:8080 in compose. */
  asideUrl: string;
  service?: InferenceService;
  /** Sent as `Authorization: Bearer <key>`; the hugging_face service insists on one, any string works when Aside has no key. */
  apiKey?: string;
  /** The Aside task (custom service only: the hugging_face URLs use Aside's default task). */
  task?: string;
  embedId?: string;
  rerankId?: string;
}

const PLACEHOLDER_URL = 'http://aside:8080';

export const inferenceDir = (): string => path.join(REPO_ROOT, 'plugins', 'elasticsearch', 'inference');

/** The two PUT bodies with URL, key and task filled in. */
export function endpointBodies(opts: EndpointOptions): { embed: Record<string, unknown>; rerank: Record<string, unknown> } {
  const service = opts.service ?? 'hugging_face';
  const base = opts.asideUrl.replace(/\/+$/, '');
  const load = (kind: 'embed' | 'rerank') => {
    const raw = fs.readFileSync(path.join(inferenceDir(), `aside-${kind}.${service}.json`), 'utf8');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Elasticsearch's own JSON bodies, edited in place
    const body = JSON.parse(raw.split(PLACEHOLDER_URL).join(base)) as Record<string, any>;
    const ss = body.service_settings;
    if (service === 'hugging_face') {
      ss.api_key = opts.apiKey || 'none';
      // hugging_face requests have no task field: Aside reads the task from the URL instead.
      if (opts.task) ss.url = `${ss.url}?task=${encodeURIComponent(opts.task)}`;
    } else {
      ss.secret_parameters.api_key = opts.apiKey || 'none';
      if (opts.task) body.task_settings.parameters.task = opts.task;
    }
    return body;
  };
  return { embed: load('embed'), rerank: load('rerank') };
}

export async function registerAside(client: Client, opts: EndpointOptions): Promise<{ embed: unknown; rerank: unknown }> {
  const bodies = endpointBodies(opts);
  const put = async (taskType: string, id: string, body: Record<string, unknown>) => {
    try {
      await client.transport.request({ method: 'DELETE', path: `/_inference/${taskType}/${id}`, querystring: { force: true } }).catch(() => undefined);
      return await client.transport.request({ method: 'PUT', path: `/_inference/${taskType}/${id}`, body }, { requestTimeout: 60000 });
    } catch (err) {
      const e = fromEsError(err, `PUT _inference/${taskType}/${id}`);
      if (/no handler found for uri \[\/_inference/.test(e.message)) {
        e.message = `this Elasticsearch has no inference API (the integ-test-zip used by \`npm run es\` lacks the x-pack-inference module); use the default distribution or the Docker image. ${e.message}`;
      }
      throw e;
    }
  };
  return {
    embed: await put('text_embedding', opts.embedId ?? 'aside-embed', bodies.embed),
    rerank: await put('rerank', opts.rerankId ?? 'aside-rerank', bodies.rerank),
  };
}
