import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startAside } from '../bench/lib/servers';
import { Served } from '../bench/lib/procs';
import { graphsDir, modelsDir } from '../src/paths';
import { makeTask } from './helpers/taskFactory';
import { writeZip, ZipEntry } from './helpers/zipWriter';

const KEY = 'hardening-key';

/**
 * Hostile task uploads and admin-API races against a real server process (`aside serve`): whatever
 * is sent, the process stays up, nothing is left behind, and the served version is never lost.
 */
describe('admin API against hostile input, on a real server process', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aside-hardening-'));
  const live = path.join(root, 'live');
  const outside = path.join(root, 'outside');
  const uploads = path.join(live, '.uploads');
  const env = { ASIDE_ADMIN_API_KEY: KEY, ASIDE_WORKERS: '1', ASIDE_HOME: path.join(root, 'home'), ASIDE_MODELS_DIR: modelsDir(), ASIDE_GRAPHS_DIR: graphsDir() };
  let s: Served;
  let alphaV2: string;

  const start = () => startAside({ tasksDir: live, env });
  const req = async (method: string, route: string, body?: string | Buffer, headers: Record<string, string> = {}) => {
    const res = await fetch(`${s.url}${route}`, { method, headers, body });
    const text = await res.text();
    let json: any = text;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, text };
  };
  const auth = { authorization: `Bearer ${KEY}` };
  const putPath = (id: string, p: string) => req('PUT', `/v1/tasks/${id}`, JSON.stringify({ path: p }), { ...auth, 'content-type': 'application/json' });
  const putZip = (id: string, zip: Buffer) => req('PUT', `/v1/tasks/${id}`, zip, { ...auth, 'content-type': 'application/zip' });
  const tasks = async () => (await req('GET', '/v1/tasks')).json;
  const versionOf = async (id: string) => (await tasks()).tasks.find((t: any) => t.id === id)?.version;
  const taskZip = (dir: string, extra: Partial<ZipEntry>[] = []) =>
    writeZip([
      { name: 'manifest.json', data: fs.readFileSync(path.join(dir, 'manifest.json')) },
      { name: 'module.safetensors', data: fs.readFileSync(path.join(dir, 'module.safetensors')), ...extra[0] },
    ]);
  const alive = async () => {
    expect(s.proc.exitCode).toBeNull();
    expect((await req('GET', '/health')).status).toBe(200);
  };
  const uploadDirs = () => (fs.existsSync(uploads) ? fs.readdirSync(uploads) : []);

  beforeAll(async () => {
    await makeTask(live, { id: 'alpha', version: 'v1', seed: 1 });
    await makeTask(live, { id: 'judge', version: 'v1', role: 'reranker', seed: 3 });
    alphaV2 = await makeTask(path.join(root, 'src-v2'), { id: 'alpha', version: 'v2', seed: 2 });
    fs.mkdirSync(outside, { recursive: true });
    s = await start();
  });
  afterAll(async () => s?.stop());

  describe('zip archives', () => {
    it('corrupt compressed data: 400, the process lives, no directory is left', async () => {
      const zip = taskZip(alphaV2, [{ corrupt: (b) => Buffer.concat([b.subarray(0, 64), Buffer.alloc(b.length - 64, 0xff)]) }]);
      const r = await putZip('alpha', zip);
      expect(r.status).toBe(400);
      expect(r.json.error_type).toBe('validation');
      await alive();
      expect(uploadDirs()).toEqual([]);
      expect(await versionOf('alpha')).toBe('v1');
    });

    it('an entry longer than it declares: 400, the process lives, no directory is left', async () => {
      const weights = fs.readFileSync(path.join(alphaV2, 'module.safetensors'));
      const r = await putZip('alpha', taskZip(alphaV2, [{ declaredSize: weights.length - 1000 }]));
      expect(r.status).toBe(400);
      await alive();
      expect(uploadDirs()).toEqual([]);
    });

    it('a zip bomb is refused from its declared sizes before anything is written', async () => {
      const zeros = Buffer.alloc(150 * 1024 * 1024);
      const zip = writeZip([
        { name: 'manifest.json', data: fs.readFileSync(path.join(alphaV2, 'manifest.json')) },
        { name: 'a.safetensors', data: zeros },
        { name: 'b.safetensors', data: zeros },
      ]);
      expect(zip.length).toBeLessThan(2 * 1024 * 1024);
      const r = await putZip('alpha', zip);
      expect(r.status).toBe(413);
      expect(r.json.error).toMatch(/unpacks to more than/);
      expect(uploadDirs()).toEqual([]);
      await alive();
    });

    it('an archive of 100,000 entries is refused before any file is created', async () => {
      // (the zip's 16-bit entry count then reads 65,535, which is over the cap all the same)
      const many = Array.from({ length: 100_000 }, (_, i) => ({ name: `f${i}.json`, data: Buffer.from('{}'), method: 0 as const }));
      const r = await putZip('alpha', writeZip(many));
      expect(r.status).toBe(413);
      expect(r.json.error).toMatch(/entries; a task archive holds at most 8/);
      expect(uploadDirs()).toEqual([]);
    });

    it('20 concurrent uploads of one task all load (unique directories), and retired uploads are removed', async () => {
      const zips = await Promise.all(Array.from({ length: 20 }, async (_, i) => taskZip(await makeTask(path.join(root, `conc-${i}`), { id: 'alpha', version: `c${i}`, seed: 10 + i }))));
      // Building the zips blocked this event loop for seconds: let the client drop sockets the server closed meanwhile.
      await new Promise((r) => setTimeout(r, 200));
      const results = await Promise.all(zips.map((z) => putZip('alpha', z)));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      const final = await versionOf('alpha');
      expect(results.map((r) => r.json.version)).toContain(final);
      for (let i = 0; i < 50 && uploadDirs().length > 1; i++) await new Promise((r) => setTimeout(r, 100));
      expect(uploadDirs()).toHaveLength(1);
    });
  });

  describe('task files', () => {
    it('a FIFO as manifest.json is refused at once; the server keeps answering', async () => {
      const dir = path.join(live, 'fifo');
      fs.mkdirSync(dir);
      expect(spawnSync('mkfifo', [path.join(dir, 'manifest.json')]).status).toBe(0);
      const r = await putPath('alpha', 'fifo');
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/not a regular file/);
      await alive();
    });

    it('file symlinks out of the models root are refused, and no outside content reaches the message', async () => {
      const secret = 'TOP-SECRET-LINE-do-not-echo';
      fs.writeFileSync(path.join(outside, 'passwd'), `${secret}\n${secret}\n`);
      const leak = path.join(live, 'leak');
      fs.mkdirSync(leak);
      fs.symlinkSync(path.join(outside, 'passwd'), path.join(leak, 'manifest.json'));
      const r1 = await putPath('alpha', 'leak');
      expect(r1.status).toBe(400);
      expect(r1.json.error).toMatch(/links outside the models root/);
      expect(r1.text).not.toContain('SECRET');

      // A valid manifest whose weights link to a valid module outside the root.
      const outsideTask = await makeTask(outside, { id: 'alpha', version: 'outside', seed: 4 });
      const linked = path.join(live, 'linked');
      fs.mkdirSync(linked);
      fs.copyFileSync(path.join(outsideTask, 'manifest.json'), path.join(linked, 'manifest.json'));
      fs.symlinkSync(path.join(outsideTask, 'module.safetensors'), path.join(linked, 'module.safetensors'));
      const r2 = await putPath('alpha', 'linked');
      expect(r2.status).toBe(400);
      expect(r2.json.error).toMatch(/module.safetensors links outside the models root/);
      expect(await versionOf('alpha')).not.toBe('outside');

      // Inside the root, a text file posing as a manifest: the parser's quote of it is not echoed.
      const junk = path.join(live, 'junk');
      fs.mkdirSync(junk);
      fs.writeFileSync(path.join(junk, 'manifest.json'), `${secret} not json`);
      const r3 = await putPath('alpha', 'junk');
      expect(r3.status).toBe(400);
      expect(r3.text).not.toContain('SECRET');
    });

    it('weights above the size cap are refused without being read', async () => {
      const big = await makeTask(path.join(live, 'big'), { id: 'alpha', version: 'big', seed: 5 });
      fs.truncateSync(path.join(big, 'module.safetensors'), 300 * 1024 * 1024); // sparse: nothing is written
      const r = await putPath('alpha', 'big/alpha');
      expect(r.status).toBe(413);
      expect(r.json.error).toMatch(/module.safetensors has 314572800 bytes; the limit is/);
    });

    it('containment is checked before existence; absolute paths are refused', async () => {
      for (const p of ['../../etc', '../../no-such-dir-anywhere', '../outside']) {
        const r = await putPath('alpha', p);
        expect([p, r.status, r.json.error]).toEqual([p, 400, expect.stringMatching(/escapes the models root/)]);
      }
      const abs = await putPath('alpha', path.join(live, 'alpha'));
      expect(abs.status).toBe(400);
      expect(abs.json.error).toMatch(/is absolute/);
      expect((await putPath('alpha', 'no-such-task')).status).toBe(404);
    });
  });

  describe('authentication and bodies', () => {
    it('accepts only Authorization: Bearer <key>', async () => {
      const body = JSON.stringify({ path: 'alpha' });
      const json = { 'content-type': 'application/json' };
      expect((await req('PUT', '/v1/tasks/alpha', body, { ...json, 'x-api-key': KEY })).status).toBe(401);
      expect((await req('PUT', '/v1/tasks/alpha', body, { ...json, authorization: KEY })).status).toBe(401);
      expect((await req('PUT', '/v1/tasks/alpha', body, { ...json, authorization: `ApiKey ${KEY}` })).status).toBe(401);
      expect((await req('PUT', '/v1/tasks/alpha', body, { ...json, ...auth })).status).toBe(200);
    });

    it('parses a body only on routes that take one, after authentication, within the route limit', async () => {
      const junk = '{"not json';
      expect((await req('PUT', '/v1/tasks/alpha', junk, { 'content-type': 'application/json' })).status).toBe(401);
      // A GET with a body (fetch will not send one): nothing parses it.
      const health = await new Promise<number>((resolve, reject) => {
        const r = http.request(`${s.url}/health`, { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': junk.length } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        r.on('error', reject);
        r.end(junk);
      });
      expect(health).toBe(200);
      const big = await req('PUT', '/v1/tasks/alpha', JSON.stringify({ path: 'x'.repeat(64 * 1024) }), { ...auth, 'content-type': 'application/json' });
      expect(big.status).toBe(413);
      expect(big.json.error_type).toBe('payload_too_large');
    });
  });

  it('a DELETE sent while a PUT of the task loads applies after it: the task stays deleted', async () => {
    // A small body (so the PUT is queued at once) and big tensors (~40 MB, so its load takes a while).
    await makeTask(path.join(live, 'race'), { id: 'alpha', version: 'race', seed: 42, size: 1024 });
    await new Promise((r) => setTimeout(r, 200)); // let the client drop sockets closed while this loop was busy
    const put = putPath('alpha', 'race/alpha');
    await new Promise((r) => setTimeout(r, 30));
    const del = req('DELETE', '/v1/tasks/alpha', undefined, auth);
    const [p, d] = await Promise.all([put, del]);
    expect(p.status).toBe(200);
    expect(d.status).toBe(200);
    expect(d.json.unloaded.version).toBe('race');
    expect(await versionOf('alpha')).toBeUndefined();
  });

  it('admin changes survive a restart; uploads of crashed processes are removed at start', async () => {
    const up = await putZip('alpha', taskZip(alphaV2));
    expect(up.status).toBe(200);
    expect((await req('DELETE', '/v1/tasks/judge', undefined, auth)).status).toBe(200);
    expect((await tasks()).restart.admin_changes_survive_restart).toBe(true);
    await s.stop();
    const stale = path.join(uploads, 'alpha-999999-abcdef');
    fs.mkdirSync(stale);
    s = await start();
    const after = await tasks();
    expect(after.tasks.map((t: any) => `${t.id}@${t.version}`).sort()).toEqual(['alpha@v2', 'base@all-MiniLM-L6-v2']);
    expect(fs.existsSync(stale)).toBe(false);
    expect(uploadDirs()).toHaveLength(1);
  });
});
