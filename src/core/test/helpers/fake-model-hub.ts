/**
 * A loopback hub serving model fixture directories on the model resolve API
 * (`/<org>/<name>/resolve/<rev>/<file>`, Range requests honoured, reference files hidden), with a
 * stall switch: a stalled file sends its first 16 KiB and then nothing until the client gives up,
 * so a test can cancel a download midway and resume it later.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export class FakeModelHub {
  readonly requests: { url: string; range?: string }[] = [];
  /** File names that stall after their first 16 KiB. */
  readonly stall = new Set<string>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  endpoint = '';

  /** `repos`: hub id (org/name) → fixture directory. */
  constructor(private readonly repos: Record<string, string>) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push({ url: req.url!, range: req.headers.range });
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
    const dir = m && this.repos[m[1]];
    const file = dir && path.join(dir, decodeURIComponent(m[3]));
    if (!m || m[2] !== 'main' || !file || !existsSync(file) || /reference/.test(file)) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    const data = readFileSync(file);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= data.length && range) {
      res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
      return;
    }
    res.writeHead(range ? 206 : 200, { 'Content-Length': data.length - start, ...(range ? { 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
    const body = data.subarray(start);
    if (this.stall.has(path.basename(file))) {
      res.write(body.subarray(0, 16 * 1024));
      return;
    }
    res.end(body);
  }
}
