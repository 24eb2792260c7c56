// The launcher's example-notebook templates: the bundled list is exactly notebooks/*.ipynb, titles
// come from each notebook's heading, and a copy never overwrites a file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freeNotebookPath, templateTitle } from '../src/notebook-templates.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const notebooksDir = path.resolve(here, '..', '..', 'notebooks');

describe('example notebook templates', () => {
  it('example-notebooks.ts bundles every notebook of notebooks/, in order', () => {
    const source = readFileSync(path.resolve(here, '..', 'src', 'example-notebooks.ts'), 'utf8');
    const imported = [...source.matchAll(/from '\.\.\/\.\.\/notebooks\/([^']+)\.ipynb'/g)].map((m) => m[1]);
    const ids = [...source.matchAll(/\{ id: '([^']+)'/g)].map((m) => m[1]);
    const files = readdirSync(notebooksDir).filter((f) => f.endsWith('.ipynb')).map((f) => f.replace(/\.ipynb$/, '')).sort();
    expect(imported).toEqual(files);
    expect(ids).toEqual(files);
  });

  it('takes the title from the first markdown heading, else the label', () => {
    const nb = (cells: unknown[]) => JSON.stringify({ cells });
    expect(templateTitle({ id: 'a', label: 'A', source: nb([{ cell_type: 'code', source: '# not markdown' }, { cell_type: 'markdown', source: ['intro\n', '# The title\n', 'text'] }]) })).toBe('The title');
    expect(templateTitle({ id: 'a', label: 'Label', source: nb([{ cell_type: 'markdown', source: 'no heading' }]) })).toBe('Label');
    const quickstart = readFileSync(path.join(notebooksDir, '01-quickstart.ipynb'), 'utf8');
    expect(templateTitle({ id: '01-quickstart', label: 'Quickstart', source: quickstart })).toMatch(/^miStudio quickstart/);
  });

  it('picks the first free name in the folder', async () => {
    const taken = new Set(['01-quickstart.ipynb', 'work/01-quickstart.ipynb', 'work/01-quickstart-1.ipynb']);
    const exists = async (p: string) => taken.has(p);
    expect(await freeNotebookPath('', '01-quickstart', exists)).toBe('01-quickstart-1.ipynb');
    expect(await freeNotebookPath('/work/', '01-quickstart', exists)).toBe('work/01-quickstart-2.ipynb');
    expect(await freeNotebookPath('other', '01-quickstart', exists)).toBe('other/01-quickstart.ipynb');
  });
});
