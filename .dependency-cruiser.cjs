/**
 * Aside's layers, top to bottom. Data flows one way: an import may go down or sideways, never up,
 * and never in a circle. `npm run lint:layers` checks it in CI.
 */
const LAYERS = [
  ['entry points', '^src/(cli[.]ts|commands/|loadtest/)'],
  ['http (wire types, routes)', '^src/http/'],
  ['composition root', '^src/compose[.]ts$'],
  ['search service and candidate sources', '^src/search/'],
  ['application core', '^src/aside[.]ts$'],
  ['re-ranking by late interaction (token stores, MaxSim kernel, blend)', '^src/rerank/'],
  ['task registry and indexes', '^src/(tasks|index)/'],
  ['inference (encoders, batching, workers)', '^src/inference/'],
  ['text, models, data, evaluation', '^src/(text|models|data|eval)/'],
  ['cross-cutting (config, errors, log, paths, metrics, util)', '^src/(config|errors|log|paths)[.]ts$|^src/(util|observability)/'],
];

const upward = LAYERS.flatMap(([name, path], i) =>
  LAYERS.slice(0, i).map(([higher, higherPath]) => ({
    name: `no-upward: ${name} -> ${higher}`,
    severity: 'error',
    from: { path },
    to: { path: higherPath },
  })),
);

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'src-not-tools', comment: 'tools/ (Elasticsearch tooling) may use src/, never the other way', severity: 'error', from: { path: '^src/' }, to: { path: '^tools/' } },
    {
      name: 'every-file-has-a-layer',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => `(${p})`).join('|') },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
