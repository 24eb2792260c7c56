/**
 * A one-line progress bar on stderr for long CLI work (downloads, imports, tokenization). Drawn only
 * when stderr is a terminal, so logs and pipes get clean output.
 */
export interface ProgressUpdate {
  label: string;
  done: number;
  total?: number;
  unit: 'bytes' | 'documents' | 'rows' | 'tokens';
}

const WIDTH = 28;

function amount(n: number, unit: ProgressUpdate['unit']): string {
  if (unit === 'bytes') {
    if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
    if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
    if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
    return `${n} B`;
  }
  return `${n.toLocaleString('en-US')} ${unit}`;
}

export class ProgressBar {
  private drawn = false;
  private readonly started = Date.now();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(p: ProgressUpdate): void {
    if (!this.stream.isTTY) return;
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = `${amount(Math.round(p.done / seconds), p.unit)}/s`;
    let line: string;
    if (p.total && p.total > 0) {
      const f = Math.min(1, p.done / p.total);
      const filled = Math.round(f * WIDTH);
      line = `${p.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${(f * 100).toFixed(0)}% ${amount(p.done, p.unit)} / ${amount(p.total, p.unit)} ${rate}`;
    } else {
      line = `${p.label} ${amount(p.done, p.unit)} ${rate}`;
    }
    const cols = this.stream.columns ?? 100;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 2))}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
