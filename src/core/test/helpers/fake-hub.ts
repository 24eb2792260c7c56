/**
 * A loopback HTTP server that speaks enough of the Hugging Face hub API for the dataset download
 * path: the paginated tree listing (`/api/datasets/<id>/tree/<rev>`, Link header), `resolve` URLs
 * that redirect to a CDN path like the real hub, and Range requests. Faults on demand: drop the
 * connection halfway through a file once, or stall a file so a test can cancel mid-download.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubFile {
  path: string;
  data: Buffer;
  /** Listed as an LFS file with its sha256 (checked by the client after download). */
  lfs?: boolean;
}

export interface RecordedRequest {
  method: string;
  url: string;
  range?: string;
}

const PAGE_SIZE = 2;

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  /** Paths whose next download sends half the bytes and then drops the connection. */
  readonly dropOnce = new Set<string>();
  /** Paths that send 1 KiB and then hang (until the client gives up). */
  readonly stall = new Set<string>();

  private constructor(
    private readonly server: http.Server,
    private readonly repos: Record<string, FakeHubFile[]>,
  ) {}

  static async start(repos: Record<string, FakeHubFile[]>): Promise<FakeHub> {
    let hub!: FakeHub;
    const server = http.createServer((req, res) => hub.handle(req, res));
    hub = new FakeHub(server, repos);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return hub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  downloads(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url.startsWith('/cdn/') && r.url.endsWith(`/${path}`));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({ method: req.method ?? 'GET', url: url.pathname, range: req.headers.range });
    const tree = /^\/api\/datasets\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    if (tree) return this.listing(tree[1], url, res);
    const resolve = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) {
      res.writeHead(302, { location: `/cdn/${resolve[1]}/${resolve[3]}` });
      res.end();
      return;
    }
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
    if (cdn) return this.file(cdn[1], decodeURIComponent(cdn[2]), req, res);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  }

  private listing(repo: string, url: URL, res: http.ServerResponse): void {
    const files = this.repos[repo];
    if (!files) {
      res.writeHead(404, { 'content-type': 'application/json', 'x-error-message': 'Repository not found' });
      res.end(JSON.stringify({ error: 'Repository not found' }));
      return;
    }
    const cursor = Number(url.searchParams.get('cursor') ?? 0);
    const page = files.slice(cursor, cursor + PAGE_SIZE).map((f) => ({
      type: 'file',
      oid: createHash('sha1').update(f.data).digest('hex'),
      size: f.lfs ? 134 : f.data.length,
      path: f.path,
      ...(f.lfs ? { lfs: { oid: createHash('sha256').update(f.data).digest('hex'), size: f.data.length, pointerSize: 134 } } : {}),
    }));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (cursor + PAGE_SIZE < files.length) {
      const next = new URL(url);
      next.searchParams.set('cursor', String(cursor + PAGE_SIZE));
      headers.link = `<${next.href}>; rel="next"`;
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify(page));
  }

  private file(repo: string, path: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const f = this.repos[repo]?.find((x) => x.path === path);
    if (!f) {
      res.writeHead(404);
      res.end();
      return;
    }
    const size = f.data.length;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= size && m) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    const body = f.data.subarray(start);
    res.writeHead(m ? 206 : 200, { 'content-length': String(body.length), 'accept-ranges': 'bytes', ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}) });
    if (this.dropOnce.delete(path)) {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    if (this.stall.has(path)) {
      res.write(body.subarray(0, 1024)); // then nothing: the client must cancel
      return;
    }
    res.end(body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
