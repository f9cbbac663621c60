import { describe, expect, it } from 'vitest';
import { renderBlocks, renderInline } from './mini-markdown.ts';

describe('renderInline', () => {
  it('renders code spans and bold, and escapes HTML everywhere', () => {
    expect(renderInline('Run `kubectl logs <pod> -c x` **now** & <b>')).toBe(
      'Run <code>kubectl logs &lt;pod&gt; -c x</code> <strong>now</strong> &amp; &lt;b&gt;',
    );
  });

  it('does not format inside code spans', () => {
    expect(renderInline('`**a**` and **b**')).toBe('<code>**a**</code> and <strong>b</strong>');
  });
});

describe('renderBlocks', () => {
  it('turns blank-line separated text into paragraphs and "- " blocks into lists with continuation lines', () => {
    const html = renderBlocks(
      'Create a Pod named `p` with:\n\n- `a` runs nginx,\n  on port 80;\n- `b` runs busybox.\n\nBoth must\nrun.',
    );
    expect(html).toBe(
      [
        '<p>Create a Pod named <code>p</code> with:</p>',
        '<ul><li><code>a</code> runs nginx, on port 80;</li><li><code>b</code> runs busybox.</li></ul>',
        '<p>Both must run.</p>',
      ].join('\n'),
    );
  });
});
