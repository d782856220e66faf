import { parseArgs } from 'node:util';
import { fetchModels } from '../models/fetch';
import { loadCatalog } from '../models/catalog';

export default async function fetchModelsCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { all: { type: 'boolean', default: false } }, allowPositionals: true });
  const ids = values.all ? loadCatalog().models.map((m) => m.id) : positionals;
  await fetchModels(ids);
}
