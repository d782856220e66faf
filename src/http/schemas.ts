import { z } from 'zod';
import { SEARCH_DEFAULTS, SearchQuery } from '../search/query';
import { BlendWeights } from '../tasks/rerankSettings';

/** Every request body Aside accepts, and nothing else (responses are built in the routes). */
const text = z.string().min(1, 'texts must not be empty');
const taskId = z.string().min(1).max(128).optional();

// A titled document is joined by the task's own text contract (its training's title separator).
const titledDoc = z.object({ title: z.string().optional(), text: z.string() });

export const EmbedRequest = z.object({
  inputs: z.union([text, z.array(z.union([text, titledDoc.extend({ text })])).min(1, 'inputs must not be empty')]),
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

// Candidate source names are checked against the registered sources (400 with the known names).
export const SearchRequest = z.object({
  query: text,
  k: z.number().int().min(1).max(1000).default(SEARCH_DEFAULTS.k),
  task: taskId,
  candidates: z.string().min(1).max(64).default(SEARCH_DEFAULTS.candidates),
  window: z.number().int().min(1).max(1000).default(SEARCH_DEFAULTS.window),
  // blend omitted: the re-ranker manifest's default blend; false: raw re-ranker order.
  rerank: z.union([z.literal(false), z.object({ task: taskId, blend: z.union([BlendWeights, z.literal(false)]).optional() })]).default(SEARCH_DEFAULTS.rerank),
  fallback: z.boolean().default(SEARCH_DEFAULTS.fallback),
  filter: z.object({ ids: z.array(z.string()).optional() }).optional(),
  rrf_k: z.number().int().min(1).max(10_000).default(SEARCH_DEFAULTS.rrf_k),
  include_text: z.boolean().default(SEARCH_DEFAULTS.include_text),
}) satisfies z.ZodType<SearchQuery>;

const rerankDoc = z.union([z.string(), titledDoc.extend({ id: z.string().optional() })]);
export const RerankRequest = z
  .object({
    query: text,
    documents: z.array(rerankDoc).min(1, 'documents must not be empty').optional(),
    texts: z.array(z.string()).min(1, 'texts must not be empty').optional(),
    // The older Elasticsearch hugging_face rerank request names the documents `input`.
    input: z.array(z.string()).min(1, 'input must not be empty').optional(),
    task: taskId,
    model: z.string().optional(),
    top_n: z.number().int().min(1).optional(),
    return_documents: z.boolean().default(false),
    return_text: z.boolean().optional(),
    raw_scores: z.boolean().optional(),
    truncate: z.boolean().optional(),
  })
  .refine((r) => r.documents || r.texts || r.input, { message: 'documents (or texts) is required' });

export const PutTaskRequest = z.object({ path: z.string().min(1).max(1024) });

export type EmbedRequest = z.infer<typeof EmbedRequest>;
export type SearchRequest = z.infer<typeof SearchRequest>;
export type RerankRequest = z.infer<typeof RerankRequest>;
