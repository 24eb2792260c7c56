// The example notebooks as committed: clean templates (no outputs), on the mistudio kernel, each
// opening with a title and an explanation, and never writing into the repository (their workspace
// is $MISTUDIO_WORKSPACE or the git-ignored .mistudio/ next to them).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../jupyterlab-extension/test/lab-server.js';
import type { NotebookJson } from './executed-notebook.js';

const dir = path.join(repoRoot, 'notebooks');
const files = readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
const sourceOf = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);

describe('notebooks/', () => {
  it('holds the six examples', () => {
    expect(files).toEqual(['01-quickstart.ipynb', '02-models-and-hooks.ipynb', '03-datasets.ipynb', '04-training-saes.ipynb', '05-feature-analysis.ipynb', '06-pretrained-saes.ipynb']);
  });

  it.each(files)('%s is a clean nbformat 4 template on the mistudio kernel', (file) => {
    const nb = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as NotebookJson & { nbformat: number };
    expect(nb.nbformat).toBe(4);
    expect(nb.metadata.kernelspec).toEqual({ display_name: 'TypeScript (miStudio)', language: 'typescript', name: 'mistudio' });
    expect(nb.metadata.widgets).toBeUndefined();
    const ids = nb.cells.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(nb.cells[0].cell_type).toBe('markdown');
    expect(sourceOf(nb.cells[0].source)).toMatch(/^# \S/);
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    expect(code.length).toBeGreaterThan(3);
    for (const c of code) {
      expect(c.outputs).toEqual([]);
      expect(c.execution_count).toBeNull();
    }
    // Markdown explains the workflow: at least one markdown cell per two code cells.
    expect(nb.cells.filter((c) => c.cell_type === 'markdown').length * 2).toBeGreaterThanOrEqual(code.length);
    // The workspace is opened with openCatalog() (MISTUDIO_WORKSPACE or ./.mistudio), never a path in the repository.
    for (const c of code) expect(sourceOf(c.source)).not.toMatch(/openCatalog\(\{/);
  });

  it('the default workspace folder is ignored by git', () => {
    expect(readFileSync(path.join(repoRoot, '.gitignore'), 'utf8').split('\n')).toContain('.mistudio/');
  });
});
