import { Client } from '@elastic/elasticsearch';
import { LocalNode, LocalNodeOptions, startLocalNode } from '../../tools/elasticsearch/localNode';
import { createEsClient } from '../../src/search/sources/elasticsearch/client';

/**
 * A real single-node Elasticsearch for one test file: fresh temp data dir, free port on 127.0.0.1,
 * stopped (and its data removed) by `stop()`. The distribution is fetched through Maven on first use
 * and cached in $ASIDE_HOME/elasticsearch. Start-up takes ~15-25 s on 2 cores.
 */
export interface EsTestNode {
  node: LocalNode;
  url: string;
  /** A client with short timeouts and no retries, so failures surface fast in tests. */
  client: Client;
  stop(): Promise<void>;
}

export async function startEsNode(opts: LocalNodeOptions = {}): Promise<EsTestNode> {
  const node = await startLocalNode({ startTimeoutMs: 150000, ...opts });
  const client = createEsClient({ url: node.url, requestTimeoutMs: 5000, maxRetries: 0 });
  let stopped = false;
  return {
    node,
    url: node.url,
    client,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await client.close().catch(() => undefined);
      await node.stop();
    },
  };
}
