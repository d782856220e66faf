import { z } from 'zod';

/**
 * How a late-interaction re-ranker scores (manifest field `lateInteraction`): MaxSim over unit-length
 * token states of the task's encoder (the bare backbone when the manifest names no graph).
 */
export const LateInteractionSettings = z.object({
  scoring: z.literal('maxsim-cosine').default('maxsim-cosine'),
  /** 'exclude' drops the [CLS] and [SEP] states of queries and documents from MaxSim. */
  specialTokens: z.enum(['include', 'exclude']).default('exclude'),
  queryMaxLength: z.number().int().min(3).max(512).default(64),
  documentMaxLength: z.number().int().min(3).max(512).default(256),
  /** Longer documents: keep the first window, or score overlapping windows and keep the best. */
  longDocuments: z.enum(['truncate', 'chunk']).default('truncate'),
  chunkOverlap: z.number().int().min(0).default(64),
  maxChunks: z.number().int().min(1).max(64).default(8),
  storage: z.literal('int8').default('int8'),
});
export type LateInteractionSettings = z.infer<typeof LateInteractionSettings>;

/** Non-negative weights of the blend contract (docs/serving.md): re-ranker and first-stage scores. */
export const BlendWeights = z
  .object({ rerank: z.number().min(0), dense: z.number().min(0).optional(), bm25: z.number().min(0).optional() })
  .strict()
  .refine((w) => w.rerank + (w.dense ?? 0) + (w.bm25 ?? 0) > 0, { message: 'blend weights must not all be 0' });
export type BlendWeights = z.infer<typeof BlendWeights>;

/** A re-ranker's default blend and where it was chosen (train/dev queries only, never test). */
export const BlendDefaults = z.object({
  weights: BlendWeights,
  tunedOn: z.object({ collection: z.string(), split: z.string(), queries: z.number().int().optional(), candidates: z.string().optional(), window: z.number().int().optional() }).passthrough(),
});
export type BlendDefaults = z.infer<typeof BlendDefaults>;
