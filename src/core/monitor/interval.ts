/** The sampling interval users may choose: fast enough to see a training step, slow enough to be free. */
import { MiStudioError } from '../errors.js';

export const MIN_INTERVAL_SECONDS = 0.5;
export const MAX_INTERVAL_SECONDS = 10;
export const DEFAULT_INTERVAL_SECONDS = 1;

/**
 * Checks an interval given in seconds (CLI `--interval`, WebSocket `{interval}`) and returns it in
 * milliseconds. `field` names where the value came from, so the error says what to fix.
 */
export function validateIntervalSeconds(value: unknown, field = 'interval'): number {
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < MIN_INTERVAL_SECONDS || seconds > MAX_INTERVAL_SECONDS) {
    throw new MiStudioError('INVALID_ARGUMENT', `monitor interval ${JSON.stringify(value)} is out of range`, {
      field,
      hint: `give a number of seconds from ${MIN_INTERVAL_SECONDS} to ${MAX_INTERVAL_SECONDS}`,
    });
  }
  return Math.round(seconds * 1000);
}
