import express, { RequestHandler } from 'express';
import { ARCHIVE_LIMITS } from '../tasks/uploadArchive';
import { bodyTimeout } from './requestLifecycle';

/**
 * Request bodies are parsed per route, after any authentication, with a limit that fits the route:
 * nothing is read into memory for a request that will be refused anyway, and GET routes read nothing.
 */
export const BODY_LIMITS = {
  /** Embedding and re-ranking texts: ASIDE_MAX_INPUTS × ASIDE_MAX_TEXT_CHARS is refused later with 413 anyway. */
  texts: 32 * 1024 * 1024,
  search: 4 * 1024 * 1024,
  /** `{path}` of a task directory. */
  taskPath: 16 * 1024,
  /** A zip of manifest + weights: the archive's unpacked cap plus room for zip headers. */
  taskArchive: ARCHIVE_LIMITS.totalBytes + 1024 * 1024,
} as const;

/** JSON up to `limit` bytes; then the body's `timeout` (if any) becomes the request's deadline. */
export const jsonBody = (limit: number): RequestHandler[] => [express.json({ limit }), bodyTimeout];

export const zipBody = (limit: number): RequestHandler => express.raw({ type: ['application/zip', 'application/octet-stream'], limit });
