import { z } from 'zod';

/** Every request body Aside accepts, and nothing else (responses are built in the routes). */
const text = z.string().min(1, 'texts must not be empty');
const taskId = z.string().min(1).max(128).optional();

export const EmbedRequest = z.object({
  inputs: z.union([text, z.array(text).min(1, 'inputs must not be empty')]),
  task: taskId,
  input_type: z.enum(['query', 'document']).default('document'),
  // TEI fields, accepted for compatibility: Aside always normalises as the task defines and truncates.
  normalize: z.boolean().optional(),
  truncate: z.boolean().optional(),
  truncation_direction: z.enum(['left', 'right', 'Left', 'Right']).optional(),
  prompt_name: z.string().nullable().optional(),
});

export const OpenAIEmbeddingsRequest = z.object({
  input: z.union([text, z.array(text).min(1, 'input must not be empty')]),
  model: z.string().min(1).max(128).optional(),
  input_type: z.enum(['query', 'document']).default('document'),
  encoding_format: z.enum(['float']).optional(),
  dimensions: z.number().int().optional(),
  user: z.string().optional(),
});

export const SearchRequest = z.object({
  query: text,
  k: z.number().int().min(1).max(1000).default(10),
  task: taskId,
  candidates: z.enum(['dense', 'elasticsearch', 'hybrid', 'elasticsearch-knn']).default('dense'),
  window: z.number().int().min(1).max(1000).default(100),
  rerank: z.union([z.literal(false), z.object({ task: taskId })]).default(false),
  fallback: z.boolean().default(false),
  filter: z.object({ ids: z.array(z.string()).optional() }).optional(),
  rrf_k: z.number().int().min(1).max(10_000).default(60),
  include_text: z.boolean().default(true),
});

const rerankDoc = z.union([z.string(), z.object({ id: z.string().optional(), text: z.string() })]);
export const RerankRequest = z
  .object({
    query: text,
    documents: z.array(rerankDoc).min(1, 'documents must not be empty').optional(),
    texts: z.array(z.string()).min(1, 'texts must not be empty').optional(),
    task: taskId,
    model: z.string().optional(),
    top_n: z.number().int().min(1).optional(),
    return_documents: z.boolean().default(false),
    return_text: z.boolean().optional(),
    raw_scores: z.boolean().optional(),
    truncate: z.boolean().optional(),
  })
  .refine((r) => r.documents || r.texts, { message: 'documents (or texts) is required' });

export const PutTaskRequest = z.object({ path: z.string().min(1).max(1024) });

export type EmbedRequest = z.infer<typeof EmbedRequest>;
export type SearchRequest = z.infer<typeof SearchRequest>;
export type RerankRequest = z.infer<typeof RerankRequest>;
