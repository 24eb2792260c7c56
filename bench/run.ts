/**
 * Benchmark runner: `npm run bench -- <name> [--json] [bench options]` runs bench/<name>.ts.
 * Each bench prints JSON lines with --json, a readable summary otherwise.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchModule {
  run(args: string[], json: boolean): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const benches = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3));
if (!name || !existsSync(path.join(here, `${name}.ts`)) || name === 'run') {
  console.error(`usage: npm run bench -- <name> [--json]\nbenches: ${benches.join(', ')}`);
  process.exit(2);
}
const json = rest.includes('--json');
const mod = (await import(path.join(here, `${name}.ts`))) as BenchModule;
await mod.run(rest.filter((a) => a !== '--json'), json);
