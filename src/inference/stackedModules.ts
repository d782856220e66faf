import * as ort from 'onnxruntime-node';

/** Stacks kept ready: a few task combinations recur while several tasks are busy at once. */
const KEPT = 16;

/**
 * The module inputs of a stacked graph for one mixed batch: each module tensor of the tasks in the
 * batch concatenated along a new leading `tasks` axis, and each row's index into it. Stacks are
 * cached by the set of modules, so tasks that keep mixing pay the copy (a few MB) once.
 */
export class StackedModules {
  private readonly cache = new Map<string, { modules: string[]; tensors: Record<string, ort.Tensor> }>();

  constructor(private readonly lookup: (key: string) => Record<string, ort.Tensor> | undefined) {}

  feeds(rowModules: string[]): { tensors: Record<string, ort.Tensor>; taskIndex: BigInt64Array } {
    const order = [...new Set(rowModules)].sort();
    const position = new Map(order.map((m, i) => [m, BigInt(i)]));
    const key = order.join('\n');
    let entry = this.cache.get(key);
    if (entry) this.cache.delete(key);
    else entry = { modules: order, tensors: this.stack(order) };
    this.cache.set(key, entry); // most recently used last
    while (this.cache.size > KEPT) this.cache.delete(this.cache.keys().next().value!);
    return { tensors: entry.tensors, taskIndex: BigInt64Array.from(rowModules, (m) => position.get(m)!) };
  }

  private stack(order: string[]): Record<string, ort.Tensor> {
    const parts = order.map((m) => {
      const t = this.lookup(m);
      if (!t) throw new Error(`module '${m}' is not loaded`);
      return t;
    });
    const out: Record<string, ort.Tensor> = {};
    for (const [name, first] of Object.entries(parts[0])) {
      const size = first.data.length;
      const data = new Float32Array(size * parts.length);
      parts.forEach((p, i) => {
        const t = p[name];
        if (!t || t.dims.join() !== first.dims.join()) throw new Error(`modules ${order[0]} and ${order[i]} differ in '${name}': they cannot share a stacked graph`);
        data.set(t.data as Float32Array, i * size);
      });
      out[name] = new ort.Tensor('float32', data, [parts.length, ...first.dims]);
    }
    return out;
  }

  /** Drops every stack that holds `module` (it was unloaded). */
  forget(module: string): void {
    for (const [key, e] of this.cache) if (e.modules.includes(module)) this.cache.delete(key);
  }

  clear(): void {
    this.cache.clear();
  }
}
