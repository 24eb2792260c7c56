// The prebuilt labextension must consume @jupyter-widgets/base from JupyterLab (one shared
// singleton), never bundle its own copy: a second copy would register widget classes with a
// registry the widget manager never sees. Checked in the build output, three ways.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'mistudio_jupyterlab', 'labextension');

function read(file: string): string {
  const full = path.join(built, file);
  if (!existsSync(full)) throw new Error(`${full} is missing: build the labextension (scripts/setup.sh does)`);
  return readFileSync(full, 'utf8');
}

describe('built labextension', () => {
  const pkg = JSON.parse(read('package.json')) as {
    name: string;
    jupyterlab: { sharedPackages: Record<string, { bundled?: boolean; singleton?: boolean }>; _build: Record<string, string> };
  };

  it('declares @jupyter-widgets/base as a shared singleton that is not bundled', () => {
    expect(pkg.name).toBe('@mistudio/jupyterlab-extension');
    expect(pkg.jupyterlab.sharedPackages['@jupyter-widgets/base']).toEqual({ bundled: false, singleton: true });
  });

  it('has both entry points: plugins and the MIME renderer', () => {
    expect(pkg.jupyterlab._build).toMatchObject({ extension: './extension', mimeExtension: './mimeExtension' });
  });

  it('the module federation entry consumes it with no fallback copy, and no chunk carries its licence', () => {
    const remoteEntry = read(pkg.jupyterlab._build.load);
    const config = remoteEntry.match(/shareKey:"@jupyter-widgets\/base",[^}]*/)?.[0];
    expect(config, 'no share-scope entry for @jupyter-widgets/base').toBeDefined();
    expect(config).toMatch(/import:(null|!1|false)/);
    expect(config).toMatch(/singleton:(!0|true)/);
    const licences = JSON.parse(read('static/third-party-licenses.json')) as { packages: { name: string }[] };
    const bundled = licences.packages.map((p) => p.name);
    expect(bundled).toContain('plotly.js-dist-min');
    expect(bundled).not.toContain('@jupyter-widgets/base');
    const chunks = readdirSync(path.join(built, 'static')).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(2); // plotly is a chunk of its own, loaded on first use
  });
});
