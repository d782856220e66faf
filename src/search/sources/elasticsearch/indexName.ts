/** Elasticsearch index names are lowercase without most punctuation. */
export const defaultIndexName = (name: string): string => `aside-${name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-')}`;
