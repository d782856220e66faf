import { Response } from 'express';
import { Aside } from '../../aside';
import { AsideError } from '../../errors';
import { TaskVersion } from '../../tasks/registry';

/** Size limits shared by every route that takes texts. */
export function checkTexts(app: Aside, texts: string[], max = app.config.maxInputs, what = 'inputs'): void {
  if (texts.length > max) throw new AsideError('payload_too_large', `${texts.length} ${what} in one request; the limit is ${max}`);
  const long = texts.findIndex((t) => t.length > app.config.maxTextChars);
  if (long >= 0) throw new AsideError('payload_too_large', `input ${long} has ${texts[long].length} characters; the limit is ${app.config.maxTextChars}`);
}

/** Responses whose body is a bare array still say which task version answered. */
export function taskHeaders(res: Response, task: TaskVersion): void {
  res.setHeader('x-aside-task', task.id);
  res.setHeader('x-aside-task-version', task.version);
}

/**
 * `?task=` on the URL: Elasticsearch's hugging_face service cannot put a task in the body, so an
 * inference endpoint names its task in the URL instead.
 */
export function queryTask(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw new AsideError('validation', 'the task query parameter must be one non-empty string');
  return v;
}
