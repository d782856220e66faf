import pino from 'pino';
import { setting } from './config';

/** One structured logger for the whole process; ASIDE_LOG_LEVEL tunes it (tests default to warn). */
export const log = pino({
  level: setting('logLevel') ?? (process.env.JEST_WORKER_ID ? 'warn' : 'info'),
  base: { svc: 'aside' },
});
