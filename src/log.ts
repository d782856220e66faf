import pino from 'pino';

/** One structured logger for the whole process; ASIDE_LOG_LEVEL tunes it (tests default to warn). */
export const log = pino({
  level: process.env.ASIDE_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'warn' : 'info'),
  base: { svc: 'aside' },
});
