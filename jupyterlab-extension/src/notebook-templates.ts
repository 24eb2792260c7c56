/**
 * Example notebooks as templates: a launcher card per notebook copies it into the folder the file
 * browser shows (never over an existing file) and opens the copy. Pure helpers, no JupyterLab imports.
 */

export interface NotebookTemplate {
  /** File name without `.ipynb`, e.g. `01-quickstart`. */
  id: string;
  /** Short launcher-card label. */
  label: string;
  /** The notebook's JSON text. */
  source: string;
}

interface NotebookJson {
  cells?: { cell_type?: string; source?: string | string[] }[];
}

/** The notebook's title: the first markdown heading (`# …`), else the label. */
export function templateTitle(template: NotebookTemplate): string {
  const nb = JSON.parse(template.source) as NotebookJson;
  for (const cell of nb.cells ?? []) {
    if (cell.cell_type !== 'markdown') continue;
    const text = Array.isArray(cell.source) ? cell.source.join('') : (cell.source ?? '');
    const heading = /^#\s+(.+)$/m.exec(text);
    if (heading) return heading[1].trim();
  }
  return template.label;
}

/** `dir/name.ipynb`, or `dir/name-1.ipynb`, `-2`, … when taken (JupyterLab paths: '/' separated, '' is the root). */
export async function freeNotebookPath(dir: string, id: string, exists: (path: string) => Promise<boolean>): Promise<string> {
  const prefix = dir.replace(/^\/+|\/+$/g, '');
  const join = (name: string) => (prefix ? `${prefix}/${name}` : name);
  for (let n = 0; n < 1000; n++) {
    const candidate = join(n === 0 ? `${id}.ipynb` : `${id}-${n}.ipynb`);
    if (!(await exists(candidate))) return candidate;
  }
  throw new Error(`no free name for ${id}.ipynb in '${dir}'`);
}
