/**
 * transformers.js peer: the `@huggingface/transformers` feature-extraction pipeline on the same ONNX
 * file, behind node:http, with brute-force top-10 over the collection's documents (embedded at start).
 * Reads a JSON config path from argv; prints {"port"} on its first stdout line.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

interface PeerConfig {
  hfDir: string;
  name: string;
  docs: { id: string; text: string }[];
  port?: number;
}

export async function hfPipeline(hfDir: string, name: string): Promise<(texts: string[]) => Promise<Float32Array[]>> {
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = hfDir + path.sep;
  const extractor = await tf.pipeline('feature-extraction', name, { dtype: 'fp32', device: 'cpu' });
  return async (texts) => {
    const out = await extractor(texts, { pooling: 'mean', normalize: true });
    const data = out.data as Float32Array;
    const dim = out.dims[out.dims.length - 1];
    return texts.map((_, i) => data.slice(i * dim, (i + 1) * dim));
  };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as PeerConfig;
  const embed = await hfPipeline(cfg.hfDir, cfg.name);
  const vecs: Float32Array[] = [];
  for (let i = 0; i < cfg.docs.length; i += 32) vecs.push(...(await embed(cfg.docs.slice(i, i + 32).map((d) => d.text))));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      if (req.method !== 'POST') return void res.end('{"status":"ok"}');
      try {
        const { query, k = 10 } = JSON.parse(body);
        const [q] = await embed([query]);
        const scored = vecs.map((v, i) => {
          let s = 0;
          for (let j = 0; j < v.length; j++) s += v[j] * q[j];
          return { i, s };
        });
        scored.sort((a, b) => b.s - a.s);
        const out = JSON.stringify({ hits: scored.slice(0, k).map(({ i, s }) => ({ id: cfg.docs[i].id, score: s })) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(out);
      } catch (e) {
        res.writeHead(500).end(JSON.stringify({ error: String(e) }));
      }
    });
  });
  server.listen(cfg.port ?? 0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n');
  });
}

if (require.main === module)
  main().catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exit(1);
  });
