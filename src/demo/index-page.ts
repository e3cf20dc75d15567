import { escapeHtml } from '../core/html.js';
import { CLIENT_ERROR_MODES, SCENARIOS } from './scenarios.js';

let cached: string | null = null;

/** The demo's index: every scenario as a link, what it does, its H-code and the fix. */
export function renderIndex(): string {
  if (cached !== null) return cached;
  const rows = SCENARIOS.map(
    (s) =>
      `<tr><td><a href="${escapeHtml(s.path)}">${escapeHtml(s.path)}</a></td><td>${escapeHtml(s.code)}</td>` +
      `<td>${escapeHtml(s.does)}</td><td>${escapeHtml(s.fix)}</td></tr>`,
  ).join('\n');
  const modes = Object.entries(CLIENT_ERROR_MODES)
    .map(
      ([mode, what]) =>
        `<li><code>--client-error=${escapeHtml(mode)}</code>: ${escapeHtml(what)}</li>`,
    )
    .join('\n');
  cached = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>h13 demo</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}td,th{padding:.3em .6em;vertical-align:top;text-align:left}tr:nth-child(even){background:#f4f4f4}</style>
</head><body>
<h1>h13 demo: every way a Node app makes Heroku's router give up</h1>
<p>Each link misbehaves on purpose. Behind Heroku's router (or <code>h13 run</code>) it produces the code shown.</p>
<table><thead><tr><th>path</th><th>code</th><th>what it does</th><th>the fix</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Bad clients</h2>
<p>Send a malformed request with <code>h13 bad-client URL</code>. What the server does depends on how it was started:</p>
<ul>
${modes}
</ul>
</body></html>
`;
  return cached;
}
