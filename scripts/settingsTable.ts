/** Prints README's settings table from src/config.ts, or with --write puts it into README.md between its markers. */
import fs from 'node:fs';
import path from 'node:path';
import { settingsTable } from '../src/config';

const table = settingsTable();
if (process.argv.includes('--write')) {
  const readme = path.join(__dirname, '..', 'README.md');
  const [head, rest] = fs.readFileSync(readme, 'utf8').split('<!-- settings:start -->');
  const tail = rest.split('<!-- settings:end -->')[1];
  fs.writeFileSync(readme, `${head}<!-- settings:start -->\n${table}\n<!-- settings:end -->${tail}`);
} else {
  process.stdout.write(table + '\n');
}
