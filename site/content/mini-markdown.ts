// A tiny Markdown subset (paragraphs, "- " lists, `code`, **bold**) for exercise goals and hints, rendered at build
// time so pages ship no Markdown parser. Exercise authors write only this subset; anything else stays plain text.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** One line of text: `code` spans first (nothing inside them is formatted), then **bold** in the rest. */
export function renderInline(text: string): string {
  return text
    .split(/(`[^`]+`)/)
    .map((part) =>
      part.length > 2 && part.startsWith('`') && part.endsWith('`')
        ? `<code>${escapeHtml(part.slice(1, -1))}</code>`
        : escapeHtml(part).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>'),
    )
    .join('');
}

/** Paragraphs separated by blank lines; a block whose first line starts with "- " is a list (indented lines continue an item). */
export function renderBlocks(markdown: string): string {
  const blocks = markdown.trim().split(/\n\s*\n/);
  return blocks
    .map((block) => {
      const lines = block.split('\n');
      if (!lines[0]?.startsWith('- ')) return `<p>${renderInline(lines.map((l) => l.trim()).join(' '))}</p>`;
      const items: string[] = [];
      for (const line of lines) {
        if (line.startsWith('- ')) items.push(line.slice(2).trim());
        else if (items.length) items[items.length - 1] += ` ${line.trim()}`;
      }
      return `<ul>${items.map((item) => `<li>${renderInline(item)}</li>`).join('')}</ul>`;
    })
    .join('\n');
}
