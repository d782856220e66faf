#!/usr/bin/env node
/** Command-line entry: `aside <command> [--flag value]`. Each command lives in its own module. */
import { log } from './log';

type Handler = (args: string[]) => Promise<void>;

const commands: Record<string, { about: string; run: () => Promise<Handler> }> = {
  'models:fetch': { about: 'fetch and verify catalog models: models:fetch [id ...] | --all', run: async () => (await import('./commands/fetchModels')).default },
  start: { about: 'the embedded default: fetch the default model, index the demo collection, serve', run: async () => (await import('./commands/serve')).serveCommand(true) },
  serve: { about: 'serve HTTP: serve [--port N] [--model ID|DIR] [--collection DIR] [--tasks-dir DIR] [--workers N]', run: async () => (await import('./commands/serve')).serveCommand(false) },
  eval: { about: 'evaluate retrieval on a BEIR collection: eval --collection DIR [--model ID] [--task ID]', run: async () => (await import('./commands/eval')).default },
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    process.stderr.write(
      `usage: aside <command>\n${Object.entries(commands)
        .map(([n, c]) => `  ${n.padEnd(14)} ${c.about}`)
        .join('\n')}\n`,
    );
    process.exit(name ? 2 : 0);
  }
  await (
    await cmd.run()
  )(rest);
}

main().catch((err: Error) => {
  log.error({ err: err.message }, 'command failed');
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
});
