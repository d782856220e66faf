import { Manifest } from '../../src/tasks/manifest';

/** Parses a manifest as the server does, failing the test with zod's message if it is not valid. */
export function validateManifestJson(json: string): Manifest {
  const r = Manifest.safeParse(JSON.parse(json));
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return r.data;
}
