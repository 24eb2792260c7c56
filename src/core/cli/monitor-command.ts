/**
 * `mistudio monitor --json` prints one sample; `mistudio monitor --serve [--port N]` runs the
 * metrics service (options as in monitor/serve.ts).
 */
import { parseArgs } from 'node:util';
import { MiStudioError } from '../errors.js';

export const summary = 'system and GPU metrics: --json prints one sample, --serve runs the service';

const HELP = `usage: mistudio monitor --json [--no-gpu]
       mistudio monitor --serve [--port N | --socket PATH] [--token T] [--interval S] [--db FILE] [--no-gpu]

  --json         print one sample (CPU load and I/O rates measured over half a second)
  --serve        run the HTTP + WebSocket metrics service on 127.0.0.1
  --port N       TCP port for --serve (default: a free one; requests need the token it prints)
  --socket PATH  listen on a Unix socket instead (how Jupyter starts it)
  --token T      token for --serve (default: $MISTUDIO_MONITOR_TOKEN or a random one)
  --interval S   seconds between samples, 0.5 to 10 (default 1)
  --db FILE      keep history in this SQLite file across restarts
  --no-gpu       do not run nvidia-smi`;

/** Rates and per-core load need two readings; half a second apart keeps `--json` quick. */
const JSON_WINDOW_MS = 500;

export async function run(argv: string[]): Promise<number> {
  const { SERVE_OPTIONS } = await import('../monitor/serve.js');
  const { values } = parseArgs({
    args: argv,
    options: { ...SERVE_OPTIONS, json: { type: 'boolean' }, serve: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.json && !values.serve) {
    const { MonitorSampler } = await import('../monitor/sampler.js');
    const sampler = new MonitorSampler({ log: () => undefined, ...(values['no-gpu'] ? { gpu: null } : {}) });
    await sampler.sampleOnce();
    await new Promise((resolve) => setTimeout(resolve, JSON_WINDOW_MS));
    console.log(JSON.stringify(await sampler.sampleOnce()));
    return 0;
  }
  if (values.serve && !values.json) {
    const { serve, serveConfigFromArgs } = await import('../monitor/serve.js');
    return serve(serveConfigFromArgs(values));
  }
  throw new MiStudioError('INVALID_ARGUMENT', 'mistudio monitor needs exactly one of --json or --serve', {
    field: values.json ? '--serve' : '--json',
    hint: 'run mistudio monitor --help',
  });
}
