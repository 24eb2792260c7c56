import { MiStudioError } from '../errors.js';

/** Rejects when `promise` has not settled in time: a wedged driver must not hang the caller. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MiStudioError('DEVICE_UNAVAILABLE', `WebGPU ${what} did not finish in ${timeoutMs} ms`, { field: 'device', hint: 'the GPU or its driver is not responding; use device "cpu"' })), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
