/**
 * Lets tslab's type checker find packages on NODE_PATH, as Node's `require` does at run time.
 *
 * The kernel spec puts the repository's node_modules on NODE_PATH so a notebook anywhere can
 * `import { widget } from '@mistudio/kernel'`. Node honours NODE_PATH, but TypeScript does not, and
 * tslab refuses to run a cell whose imports do not type-check. tslab's compiler host reads files
 * through `ts.sys` at call time, so wrapping `ts.sys` makes a lookup of
 * `<cwd>/node_modules/<pkg>/...` fall back to `<NODE_PATH entry>/<pkg>/...` — only for packages that
 * neither the notebook directory nor its ancestors provide, which is exactly when Node would use
 * NODE_PATH too.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The subset of `ts.sys` the compiler host uses for module resolution. */
export interface TsSys {
  fileExists(p: string): boolean;
  directoryExists(p: string): boolean;
  readFile(p: string, encoding?: string): string | undefined;
  realpath?(p: string): string;
  getDirectories(p: string): string[];
}

export function installNodePathFallback(sys: TsSys, cwd: string, nodePath: string | undefined): void {
  const roots = (nodePath ?? '').split(path.delimiter).filter((p) => p !== '' && path.isAbsolute(p));
  if (roots.length === 0) return;
  const prefix = path.join(cwd, 'node_modules') + path.sep;
  const ancestors: string[] = [];
  for (let dir = path.dirname(cwd); ; dir = path.dirname(dir)) {
    ancestors.push(path.join(dir, 'node_modules'));
    if (path.dirname(dir) === dir) break;
  }
  /** Package name ("@scope/name" or "name") → the NODE_PATH root that provides it, or null. */
  const rootOf = new Map<string, string | null>();

  const map = (p: string): string => {
    if (!p.startsWith(prefix)) return p;
    const rest = p.slice(prefix.length);
    const segments = rest.split(/[\\/]/);
    const pkg = segments[0].startsWith('@') ? segments.slice(0, 2).join('/') : segments[0];
    if (!pkg || pkg === '@types') return p;
    let root = rootOf.get(pkg);
    if (root === undefined) {
      const local = [path.join(cwd, 'node_modules'), ...ancestors].some((dir) => existsSync(path.join(dir, pkg)));
      root = local ? null : (roots.find((r) => existsSync(path.join(r, pkg))) ?? null);
      rootOf.set(pkg, root);
    }
    return root === null ? p : path.join(root, rest);
  };

  const original = {
    fileExists: sys.fileExists.bind(sys),
    directoryExists: sys.directoryExists.bind(sys),
    readFile: sys.readFile.bind(sys),
    realpath: sys.realpath?.bind(sys),
    getDirectories: sys.getDirectories.bind(sys),
  };
  sys.fileExists = (p) => original.fileExists(map(p));
  sys.directoryExists = (p) => original.directoryExists(map(p));
  sys.readFile = (p, encoding) => original.readFile(map(p), encoding);
  sys.getDirectories = (p) => original.getDirectories(map(p));
  if (original.realpath) {
    const realpath = original.realpath;
    sys.realpath = (p) => realpath(map(p));
  }
}
