/**
 * Child process of catalog.test.ts: hammers one workspace catalog while a sibling does the same.
 * argv: <workspace> <prefix> <count>. Prints one JSON line: which contested names this process won.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { openCatalog, removeDir } from '../../catalog/index.js';
import { MiStudioError } from '../../errors.js';

const [root, prefix, countArg] = process.argv.slice(2);
const count = Number(countArg);
const catalog = await openCatalog({ root });
// Start barrier: both writers begin together so their transactions really interleave.
writeFileSync(path.join(root, `ready-${prefix}`), '');
while (!existsSync(path.join(root, 'go'))) await sleep(5);
const won: string[] = [];
let lost = 0;
for (let i = 0; i < count; i++) {
  for (const name of [`${prefix}-${i}`, `contested-${i}`]) {
    const staging = catalog.createStagingDir(name);
    writeFileSync(path.join(staging, 'payload.txt'), `${prefix} ${i}\n`);
    try {
      catalog.datasets.create({ name, kind: 'text', source: { writer: prefix }, documents: i, rows: i, bytes: 1 }, staging);
      if (name.startsWith('contested')) won.push(name);
    } catch (err) {
      if (!(err instanceof MiStudioError && err.code === 'ALREADY_EXISTS')) throw err;
      lost++;
      removeDir(staging);
    }
  }
  if (i % 5 === 4) catalog.datasets.rename(`${prefix}-${i}`, `${prefix}-${i}-renamed`);
  if (i % 7 === 6) catalog.datasets.delete((i - 1) % 5 === 4 ? `${prefix}-${i - 1}-renamed` : `${prefix}-${i - 1}`);
}
catalog.close();
console.log(JSON.stringify({ won, lost }));
