/** Prints README's settings table from src/config.ts (the one definition of every ASIDE_* variable). */
import { settingsTable } from '../src/config';

process.stdout.write(settingsTable() + '\n');
