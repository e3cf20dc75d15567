/**
 * Splits a child's output into lines for `app[web.N]`. A line longer than `maxLine` is cut
 * into pieces (Heroku's logplex truncates long lines too) so one runaway write cannot grow
 * memory; a trailing partial line is flushed when the stream ends.
 */
export function lineSplitter(
  onLine: (line: string) => void,
  maxLine = 10_000,
): { push(chunk: string): void; end(): void } {
  let partial = '';
  return {
    push(chunk) {
      let text = partial + chunk;
      let nl = text.indexOf('\n');
      while (nl >= 0) {
        const line = text.slice(0, nl);
        onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
        text = text.slice(nl + 1);
        nl = text.indexOf('\n');
      }
      while (text.length > maxLine) {
        onLine(text.slice(0, maxLine));
        text = text.slice(maxLine);
      }
      partial = text;
    },
    end() {
      if (partial !== '') onLine(partial);
      partial = '';
    },
  };
}
