/**
 * Environment the npm start/serve scripts (package.json) and the Docker image set for the server:
 * glibc's fixed mmap threshold returns activation buffers ≥ 1 MiB to the system when a forward pass
 * frees them, instead of keeping them in per-thread heaps (scenario 10 measures it).
 */
export const SERVE_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '1048576' } as const;

const MEMORY_KEYS = ['ASIDE_CPU_ARENA', 'ASIDE_MEM_PATTERN', 'ASIDE_LAZY_SESSIONS', 'ASIDE_MAX_BATCH_TOKENS', 'MALLOC_MMAP_THRESHOLD_'];

/**
 * This process's environment with every memory setting unset (undefined: child_process drops it, also
 * when merged over process.env), plus `env`: a child measures exactly the setting it is given.
 */
export function memoryEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...Object.fromEntries(MEMORY_KEYS.map((k) => [k, undefined])), ...env };
}
