/**
 * Parts of hand-written docs pages that are rendered from code tables (option tables, the
 * guard's vocabulary, the drain's routes). `npm run docs` rewrites the part between a page's
 * two markers; test/core/docs-sync.test.ts fails when a page and its table disagree. One
 * marker format and one splice for every page, so no page can drift in a way of its own.
 */

/** The two comment lines that enclose the generated part called `name`. */
export function generatedMarkers(name: string): { readonly start: string; readonly end: string } {
  return {
    start: `<!-- generated:${name} (npm run docs; do not edit) -->`,
    end: `<!-- end generated:${name} -->`,
  };
}

/** `page` with the part called `name` replaced by `body`; throws when a marker is missing. */
export function withGenerated(page: string, name: string, body: string): string {
  const { start, end } = generatedMarkers(name);
  const a = page.indexOf(start);
  const b = page.indexOf(end);
  if (a < 0 || b < a) throw new Error(`the page has no generated:${name} markers`);
  return `${page.slice(0, a + start.length)}\n${body}\n${page.slice(b)}`;
}

/** Text for one markdown table cell: a `|` would end the cell. */
export function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
