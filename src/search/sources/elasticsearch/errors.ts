import { errors } from '@elastic/elasticsearch';
import { AsideError } from '../../../errors';

/**
 * Maps a failure of an Elasticsearch call onto AsideError, so routes answer with the right status:
 * unreachable / timed out → 503 'unavailable'; 429 → 'overloaded'; 401/403 → 'unauthorized';
 * 404 → 'not_found'; other responses → 'internal' with Elasticsearch's own reason.
 */
export function fromEsError(err: unknown, what: string, url?: string): AsideError {
  if (err instanceof AsideError) return err;
  const where = url ? ` at ${url}` : '';
  if (err instanceof errors.TimeoutError) return new AsideError('unavailable', `Elasticsearch${where} timed out during ${what}`, { cause: 'timeout' });
  if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError) {
    return new AsideError('unavailable', `Elasticsearch${where} is unreachable during ${what}: ${err.message}`, { cause: 'connection' });
  }
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const body = err.body as { error?: { type?: string; reason?: string; root_cause?: { reason?: string }[] } } | undefined;
    const reason = body?.error?.root_cause?.[0]?.reason ?? body?.error?.reason ?? err.message;
    const details = { es_status: status, es_error: body?.error?.type };
    if (status === 429) return new AsideError('overloaded', `Elasticsearch rejected ${what} (429): ${reason}`, details);
    if (status === 401 || status === 403) return new AsideError('unauthorized', `Elasticsearch refused ${what} (${status}): ${reason}`, details);
    if (status === 404) return new AsideError('not_found', `Elasticsearch: ${reason} (during ${what})`, details);
    if (status === 502 || status === 503 || status === 504) return new AsideError('unavailable', `Elasticsearch${where} is unavailable during ${what} (${status}): ${reason}`, details);
    return new AsideError('internal', `Elasticsearch failed ${what} (${status}): ${reason}`, details);
  }
  return new AsideError('internal', `Elasticsearch failed ${what}: ${(err as Error)?.message ?? String(err)}`);
}
