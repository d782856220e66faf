#!/usr/bin/env node
/** Command-line entry: `aside <command> [--flag value]`. Each command lives in its own module. */
import { log } from './log';

type Handler = (args: string[]) => Promise<void>;

const commands: Record<string, { about: string; run: () => Promise<Handler> }> = {
  'models:fetch': { about: 'fetch and verify catalog models: models:fetch [id ...] | --all', run: async () => (await import('./commands/fetchModels')).default },
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    process.stderr.write(`usage: aside <command>\n${Object.entries(commands).map(([n, c]) => `  ${n.padEnd(14)} ${c.about}`).join('\n')}\n`);
    process.exit(name ? 2 : 0);
  }
  await (await cmd.run())(rest);
}

main().catch((err: Error) => {
  log.error({ err: err.message }, 'command failed');
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
});

