#!/usr/bin/env node
/**
 * `mistudio <group> <command> [options]` — the headless face of the same API the notebooks use.
 * Each group lives in its own module, loaded only when invoked so `mistudio monitor` does not pay
 * for onnxruntime start-up.
 */
import { MiStudioError } from '../errors.js';

export interface CommandModule {
  /** One line shown by `mistudio --help`. */
  summary: string;
  /** Runs `mistudio <group> ...argv`; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

const GROUPS: Record<string, () => Promise<CommandModule>> = {
  activations: () => import('./activations-command.js'),
  datasets: () => import('./datasets-command.js'),
  gpu: () => import('./gpu-command.js'),
  models: () => import('./models-command.js'),
  monitor: () => import('./monitor-command.js'),
  train: () => import('./train-command.js'),
};

function usage(): string {
  const names = Object.keys(GROUPS).sort();
  return `usage: mistudio <group> <command> [options]\n\ngroups: ${names.join(', ')}\n\nrun 'mistudio <group> --help' for a group's commands.`;
}

async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  if (!group || group === '--help' || group === '-h') {
    console.log(usage());
    return group ? 0 : 2;
  }
  const load = GROUPS[group];
  if (!load) {
    console.error(`mistudio: unknown group '${group}'\n${usage()}`);
    return 2;
  }
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof MiStudioError) {
      console.error(`mistudio: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(err);
      process.exitCode = 70;
    }
  },
);
