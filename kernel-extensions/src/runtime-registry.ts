/**
 * The one place where the kernel process and user code meet. tslab loads cells' imports with its
 * own `require`, so `@mistudio/kernel` seen by a cell may be a different module instance from the
 * one the launcher imported (another path, a copy in a notebook's node_modules). The kernel
 * therefore installs its runtime under a global registered symbol, and every instance of this
 * package looks it up there.
 */
import { MiStudioError } from '@mistudio/core/errors';
import type { DisplayHandle, DisplayOptions, MimeBundle, WidgetHandle, WidgetOptions } from './types.js';

export interface KernelRuntime {
  display(bundle: MimeBundle, options: DisplayOptions): DisplayHandle;
  update(id: string, bundle: MimeBundle): void;
  widget(tag: string, props: Record<string, unknown>, options: WidgetOptions): WidgetHandle;
}

const RUNTIME_KEY = Symbol.for('mistudio.kernel.runtime');

type WithRuntime = typeof globalThis & { [RUNTIME_KEY]?: KernelRuntime };

export function installRuntime(runtime: KernelRuntime): void {
  (globalThis as WithRuntime)[RUNTIME_KEY] = runtime;
}

export function getRuntime(): KernelRuntime {
  const runtime = (globalThis as WithRuntime)[RUNTIME_KEY];
  if (!runtime) {
    throw new MiStudioError('UNSUPPORTED', 'display() and widget() only work inside the miStudio kernel', {
      hint: 'select the "TypeScript (miStudio)" kernel for this notebook (kernel spec "mistudio")',
    });
  }
  return runtime;
}
