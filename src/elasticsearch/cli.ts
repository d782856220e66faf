#!/usr/bin/env node
/**
 * `npm run es -- start|stop|status`: manages the local single-node Elasticsearch (fetched through Maven
 * on first use, cached in $ASIDE_HOME/elasticsearch). `start` prints the URL on stdout, so
 * `export ASIDE_ES_URL=$(npm run -s es -- start)` works.
 */
import { log } from '../log';
import { managedNodeStatus, startManagedNode, stopManagedNode } from './localNode';

const USAGE = `usage: npm run es -- <command>
  start    start the local Elasticsearch (or report the running one); prints its URL
  stop     stop it
  status   show whether it runs, its URL and cluster health
env: ASIDE_ES_PORT (default: a free port), ASIDE_ES_HEAP (512m), ASIDE_ES_VERSION, ES_JAVA_HOME (JDK >= 21), ASIDE_ES_RUN_AS (when root)
`;

async function main(): Promise<void> {
  const cmd = process.argv[2];
  switch (cmd) {
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
