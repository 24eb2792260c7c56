import { describe, expect, it } from 'vitest';
import { renderSnapshot } from '../src/static/index.js';

describe('ms-job-progress snapshot', () => {
  it('shows title, status, counts, percentage and rate as plain HTML', () => {
    const html = renderSnapshot('ms-job-progress', { title: 'Extract <blocks.6>', status: 'running', done: 2500, total: 10000, unit: 'tokens', rate: 500, etaSeconds: 15, details: { hook: 'blocks.6.hook_resid_post' } });
    expect(html).toContain('Extract &lt;blocks.6&gt;');
    expect(html).toContain('running');
    expect(html).toContain('width:25.0%');
    expect(html).toMatch(/2,500 \/ 10,000 tokens/);
    expect(html).toContain('500 tokens/s');
    expect(html).toContain('ETA 15 s');
    expect(html).toContain('blocks.6.hook_resid_post');
    expect(html).not.toMatch(/<script/i);
  });

  it('shows a failure message and no ETA once finished', () => {
    const html = renderSnapshot('ms-job-progress', { title: 'x', status: 'failed', done: 3, total: 10, unit: 'rows', etaSeconds: 4, message: 'disk full' });
    expect(html).toContain('disk full');
    expect(html).not.toContain('ETA');
  });
});
