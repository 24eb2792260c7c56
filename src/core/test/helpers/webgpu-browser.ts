/**
 * Runs the WGSL kernels in headless Debian chromium, whose WebGPU adapter is SwiftShader (Vulkan on
 * the CPU): a second Dawn and Tint, besides the Node ones that the trainer and bench/gpu use (tested
 * in gpu-instance-lifetime, gpu-subgroup-matrix-emulated and gpu-bench-smoke). The page bundle is
 * webgpu-page.ts.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from '../../../../widgets/test/browser.js';

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'webgpu-page.ts');

interface WebGpuPage {
  page: Page;
  close(): Promise<void>;
}

async function openWebGpuPage(): Promise<WebGpuPage> {
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'silent' });
  const script = bundle.outputFiles[0].text;
  // WebGPU needs a secure context: a page from localhost is one, about:blank and data: URLs are not.
  const server = http.createServer((req, res) => {
    if (req.url === '/page.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(script);
    } else {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><script src="/page.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan']);
    const page = await browser.newPage();
    const { port } = server.address() as { port: number };
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'mistudioGpu' in globalThis);
    const opened = browser;
    return {
      page,
      async close() {
        await opened.close();
        server.close();
      },
    };
  } catch (cause) {
    await browser?.close();
    server.close();
    throw cause;
  }
}

/** One page for the calling test file: opened before its first test, closed after its last. */
export function webGpuPageForFile(): { readonly page: Page } {
  let opened: WebGpuPage | undefined;
  beforeAll(async () => {
    opened = await openWebGpuPage();
  }, 60_000);
  afterAll(async () => {
    await opened?.close();
  });
  return {
    get page() {
      if (!opened) throw new Error('the WebGPU page is opened in beforeAll; use it inside tests');
      return opened.page;
    },
  };
}
