import { z } from 'zod';
import { BlendDefaults, LateInteractionSettings } from './rerankSettings';

/** The kind of re-ranker scored by MaxSim over token states rather than by a cross-encoder graph. */
export const LATE_INTERACTION = 'late-interaction';

/** The task-module contract between training/ and the server; docs/module-format.md explains it. */
export const TensorSpec = z.object({ shape: z.array(z.number().int().nonnegative()), dtype: z.literal('float32') });

export const Manifest = z
  .object({
    format: z.literal('aside-task/1'),
    id: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/, 'task ids are letters, digits, . _ - (max 128)'),
    version: z.string().min(1).max(128),
    role: z.enum(['retriever', 'reranker']),
    kind: z.string().min(1),
    budget: z.record(z.string(), z.unknown()).optional(),
    backbone: z.object({ id: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    // Absent only for a late-interaction re-ranker on the bare backbone (no module).
    graph: z.object({ file: z.string().min(1), signature: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
    // Rerankers say 'none': their graph ends in a score, pooling happens inside it.
    pooling: z.enum(['mean', 'cls', 'none']).default('mean'),
    normalize: z.boolean().default(true),
    maxLength: z.object({ query: z.number().int().positive().optional(), document: z.number().int().positive().optional(), pair: z.number().int().positive().optional() }).default({}),
    prefixes: z.object({ query: z.string(), document: z.string() }).optional(),
    // The text contract (src/text/documentText.ts): how training joined title and text. Required, so a
    // task is never served with a different document text than it was trained on.
    text: z.object({ titleSeparator: z.string().max(16) }, { error: 'text.titleSeparator is required: how training joined title and text' }),
    tensors: z.record(z.string(), TensorSpec).default({}),
    weights: z.string().default('module.safetensors'),
    training: z.record(z.string(), z.unknown()).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
    lateInteraction: LateInteractionSettings.optional(),
    blend: BlendDefaults.optional(),
  })
  .refine((m) => m.graph || (m.kind === LATE_INTERACTION && m.role === 'reranker'), { message: 'graph is required (only a late-interaction re-ranker may run on the bare backbone)', path: ['graph'] });
export type Manifest = z.infer<typeof Manifest>;

/** Retrievers must pool; a reranker's pooling is irrelevant to the server. */
export const poolingOf = (m: Manifest): 'mean' | 'cls' => (m.pooling === 'none' ? 'mean' : m.pooling);
