#!/usr/bin/env node
/**
 * Entry point of the `mistudio` kernel spec:
 *
 *   node kernel-extensions/dist/launcher.js --connection-file <path>
 *
 * Builds tslab's converter and executor (reused as they are) behind our KernelServer, installs the
 * cell runtime where `@mistudio/kernel` finds it, and keeps the kernel alive whatever user code
 * throws asynchronously.
 */
import { createRequire } from 'node:module';
import { MiStudioError } from '@mistudio/core/errors';
import { renderSnapshot } from '@mistudio/widgets/static';
import type * as TS from 'typescript';
import type * as ConverterModule from 'tslab/dist/converter.js';
import type * as ExecutorModule from 'tslab/dist/executor.js';
import type * as JupyterModule from 'tslab/dist/jupyter.js';
import { CellRuntime } from './cell-runtime.js';
import { describe } from './comm-manager.js';
import { ExecutionQueue } from './execution.js';
import { KernelServer, readConnectionFile } from './kernel-server.js';
import { logError } from './log.js';
import { installNodePathFallback, type TsSys } from './node-path-types.js';
import { installRuntime } from './runtime-registry.js';
import { expandShorthandProperties } from './shorthand-properties.js';

/** How often the kernel checks that its parent (the Jupyter server or client) is still alive. */
const ORPHAN_POLL_MS = 2000;

const require = createRequire(import.meta.url);

function parseArgs(argv: string[]): { connectionFile: string } {
  const at = argv.indexOf('--connection-file');
  const connectionFile = at >= 0 ? argv[at + 1] : undefined;
  if (!connectionFile) {
    throw new MiStudioError('INVALID_ARGUMENT', 'missing --connection-file <path>', {
      hint: 'the kernel is started by Jupyter through the "mistudio" kernel spec',
    });
  }
  return { connectionFile };
}

async function main(): Promise<void> {
  const { connectionFile } = parseArgs(process.argv.slice(2));
  const connection = readConnectionFile(connectionFile);

  // tslab's TypeScript, resolved from tslab itself so it is the very instance its converter uses.
  const tslabRequire = createRequire(require.resolve('tslab/package.json'));
  const ts = tslabRequire('@tslab/typescript-for-tslab') as { sys: TsSys; version: string };
  installNodePathFallback(ts.sys, process.cwd(), process.env.NODE_PATH);

  const converter = require('tslab/dist/converter.js') as typeof ConverterModule;
  const executorModule = require('tslab/dist/executor.js') as typeof ExecutorModule;
  const jupyter = require('tslab/dist/jupyter.js') as typeof JupyterModule;

  // Cells are expanded before tslab converts them (see shorthand-properties.ts).
  const expanding = (c: ConverterModule.Converter): ConverterModule.Converter => ({
    ...c,
    convert: (prevDecl, src) => c.convert(prevDecl, expandShorthandProperties(ts as unknown as typeof TS, src)),
  });
  let browserConverter: ConverterModule.Converter | null = null;
  const converters = {
    node: expanding(converter.createConverter({ isJS: false, isBrowser: false })),
    get browser() {
      browserConverter ??= expanding(converter.createConverter({ isJS: false, isBrowser: true }));
      return browserConverter;
    },
    close() {
      converters.node.close();
      browserConverter?.close();
    },
  };
  // tslab's executor reports cell errors and diagnostics through these, i.e. to the cell's stderr.
  const executor = executorModule.createExecutor(process.cwd(), converters, {
    log: (...args: unknown[]) => console.log(...args),
    error: (...args: unknown[]) => console.error(...args),
  });

  const server = new KernelServer(connection);
  const runtime = new CellRuntime(server.outbox, renderSnapshot);
  const execution = new ExecutionQueue(executor, server.outbox, runtime);
  installRuntime(runtime);

  // `import * as tslab from "tslab"; tslab.display.html(...)` keeps working: tslab's display API
  // writes through this module-level hook of its jupyter.js.
  (jupyter as { lastWriteDisplayData: unknown }).lastWriteDisplayData = (
    data: Record<string, unknown>,
    update: boolean,
  ) => server.outbox.publish(update ? 'update_display_data' : 'display_data', data, runtime.currentExecuteParent);

  process.on('SIGINT', () => execution.interrupt());
  exitWhenOrphaned(() => executor.close());
  process.on('uncaughtException', (err) => runtime.reportUserError(`uncaught exception: ${describe(err)}`));
  process.on('unhandledRejection', (reason) => runtime.reportUserError(`unhandled promise rejection: ${describe(reason)}`));

  await server.start({
    runtime,
    execution,
    tslabHandler: new jupyter.JupyterHandlerImpl(executor, false),
    typescriptVersion: ts.version,
    kernelVersion: (require('../package.json') as { version: string }).version,
    onShutdown: () => {
      executor.close();
      process.exit(0);
    },
  });
}

/**
 * Jupyter starts kernels in their own session, so a server that dies without shutting its kernels
 * down leaves them running, each holding a model in memory. Like ipykernel's parent poller, the
 * kernel exits once the process that started it is gone (it is re-parented).
 */
function exitWhenOrphaned(cleanup: () => void): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      logError(`parent process ${parent} is gone; shutting down`);
      cleanup();
      process.exit(0);
    }
  }, ORPHAN_POLL_MS).unref();
}

main().catch((err: unknown) => {
  logError(`kernel failed to start: ${describe(err)}`);
  process.exit(1);
});
