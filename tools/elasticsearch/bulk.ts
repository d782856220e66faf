import { Client } from '@elastic/elasticsearch';
import { AsideError } from '../../src/errors';
import { log } from '../../src/log';
import { progress } from '../../src/util/progress';
import { fromEsError } from '../../src/search/sources/elasticsearch/errors';

/** One bulk action: `index` writes the whole document, `update` merges `doc` into an existing one. */
export interface BulkAction {
  op: 'index' | 'update';
  id: string;
  doc: Record<string, unknown>;
}

export interface BulkOptions {
  /** Actions per bulk request (default 500). */
  batchSize?: number;
  /** Attempts per action on 429 before giving up (default 8). */
  maxAttempts?: number;
  /** First back-off in ms, doubled per attempt up to 30 s (default 500). */
  backoffMs?: number;
  /** Progress bar label; none when omitted. */
  label?: string;
  refresh?: boolean;
}

export interface BulkResult {
  written: number;
  /** Actions sent again after a 429 (whole request or single items). */
  retried: number;
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends actions in batches. A 429 (whole request or single items, es_rejected_execution_exception) is
 * retried with exponential back-off for just the rejected actions; any other item error fails the run
 * with Elasticsearch's reason for the first failed document.
 */
export async function bulkWrite(client: Client, index: string, actions: Iterable<BulkAction> | BulkAction[], opts: BulkOptions = {}): Promise<BulkResult> {
  const all = Array.isArray(actions) ? actions : [...actions];
  const batchSize = opts.batchSize ?? 500;
  const maxAttempts = opts.maxAttempts ?? 8;
  const t0 = Date.now();
  const bar = opts.label ? progress(opts.label, all.length, 'docs') : undefined;
  let written = 0;
  let retried = 0;
  try {
    for (let s = 0; s < all.length; s += batchSize) {
      let pending = all.slice(s, s + batchSize);
      for (let attempt = 1; pending.length; attempt++) {
        const operations = pending.flatMap((a) => (a.op === 'index' ? [{ index: { _index: index, _id: a.id } }, a.doc] : [{ update: { _index: index, _id: a.id } }, { doc: a.doc }]));
        let rejected: BulkAction[] = [];
        try {
          const res = await client.bulk({ operations, refresh: false });
          res.items.forEach((item, i) => {
            const r = item.index ?? item.update ?? Object.values(item)[0];
            if (!r?.error) return;
            if (r.status === 429) rejected.push(pending[i]);
            else throw new AsideError('internal', `Elasticsearch rejected document '${pending[i].id}' in ${index}: ${r.error.type}: ${r.error.reason}`);
          });
        } catch (err) {
          if (err instanceof AsideError) throw err;
          const mapped = fromEsError(err, `bulk write to ${index}`);
          if (mapped.type !== 'overloaded') throw mapped;
          rejected = pending;
        }
        const ok = pending.length - rejected.length;
        written += ok;
        bar?.tick(ok);
        if (!rejected.length) break;
        if (attempt >= maxAttempts) throw new AsideError('overloaded', `Elasticsearch kept answering 429 for ${rejected.length} documents in ${index} after ${attempt} attempts`);
        retried += rejected.length;
        const wait = Math.min(30000, (opts.backoffMs ?? 500) * 2 ** (attempt - 1));
        log.warn({ index, rejected: rejected.length, attempt, wait }, 'Elasticsearch bulk 429; backing off');
        await sleep(wait);
        pending = rejected;
      }
    }
    if (opts.refresh !== false) await client.indices.refresh({ index }).catch((e) => Promise.reject(fromEsError(e, `refresh of ${index}`)));
  } finally {
    bar?.stop();
  }
  return { written, retried, ms: Date.now() - t0 };
}
