/**
 * The drain's pages as HTML strings, drawn on the server: the apps, one app (codes and
 * platform errors over time with the error rate, causes and routes ranked, the latest
 * diagnoses with evidence and fix), one diagnosis, a request id followed, and the login form.
 *
 * Every value that came from a log or a request goes through escapeHtml (src/core/html.ts,
 * the HTML report's own), and every link is a path this module builds, with each value
 * through encodeURIComponent: a logged `javascript:` can never become a link's scheme. The
 * page carries no inline script or style attribute, so the strict Content-Security-Policy
 * the routes send (script and style from this origin only) holds; the charts colour with
 * SVG presentation attributes, which CSP does not govern.
 */

import { CAUSES, type CauseId, type CauseInfo } from '../analyze/causes.js';
import { type DiagnosisJson, descOf, fixOf } from '../analyze/report.js';
import { escapeHtml as e } from '../core/html.js';
import { PALETTE } from '../core/report-style.js';
import type {
  AppSummary,
  CountRow,
  KeyedDiagnosis,
  RequestTrail,
  StoredPlatformError,
} from './store.js';

/** The chart is never narrower than this, so a single minute does not fill it. */
const MIN_CHART_MINUTES = 15;
const clock = (iso: string | null) => (iso === null ? '?' : iso.slice(0, 19).replace('T', ' '));
const minuteClock = (minute: number) => clock(new Date(minute * 60_000).toISOString());
const pct = (n: number, of: number) => (of === 0 ? '–' : `${((100 * n) / of).toFixed(1)} %`);
const causeInfo = (cause: string): CauseInfo | undefined =>
  (CAUSES as Record<string, CauseInfo | undefined>)[cause];

export const appHref = (app: string) => `/apps/${encodeURIComponent(app)}`;
export const diagnosisHref = (app: string, key: string) =>
  `${appHref(app)}/diagnoses/${encodeURIComponent(key)}`;
export const requestHref = (id: string) => `/requests?id=${encodeURIComponent(id)}`;

export interface Layout {
  readonly title: string;
  /** The app whose live events the page follows; null: every app. */
  readonly app?: string | null;
  /** Name of the page, for the page script (apps, app, diagnosis, request, login). */
  readonly kind: string;
  readonly loggedIn?: boolean;
}

export function page(layout: Layout, body: string): string {
  const nav =
    layout.loggedIn === false
      ? ''
      : `<nav class="top"><a href="/">apps</a>
<form class="inline" action="/requests" method="get"><input name="id" size="40" placeholder="request id (x-request-id)" aria-label="request id"> <button type="submit">find</button></form>
<form class="inline right" action="/logout" method="post"><button type="submit">log out</button></form>
<span id="live" class="live" data-state="off">live: off</span></nav>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(layout.title)} — h13 drain</title>
<link rel="stylesheet" href="/web/style.css">
<script src="/web/app.js" defer></script>
</head><body data-page="${e(layout.kind)}" data-app="${e(layout.app ?? '')}">
${nav}
${body}
<p class="axis">h13 drain</p>
</body></html>
`;
}

export function loginPage(options: { failed: boolean; next: string }): string {
  return page(
    { title: 'log in', kind: 'login', loggedIn: false },
    `<h1>h13 drain</h1>
<form class="login" action="/login" method="post">
${options.failed ? '<p class="error" id="login-error">Wrong user or password.</p>' : ''}
<p><label>user <input name="user" autocomplete="username" required></label></p>
<p><label>password <input name="password" type="password" autocomplete="current-password" required></label></p>
<input type="hidden" name="next" value="${e(options.next)}">
<p><button type="submit">log in</button></p>
</form>
<p>The user and password are the drain's own (<code>--user</code>, <code>H13_DRAIN_PASSWORD</code>).</p>`,
  );
}

export function appsPage(apps: readonly AppSummary[]): string {
  const rows = apps.map((a) => {
    const codes = Object.entries(a.byCode)
      .sort((x, y) => y[1] - x[1])
      .map(([c, n]) => `${e(c)} ${n}`)
      .join(', ');
    const platform = Object.entries(a.platformErrors)
      .sort((x, y) => y[1] - x[1])
      .map(([c, n]) => `${e(c)} ${n}`)
      .join(', ');
    const bad = Object.entries(a.counters)
      .filter(([k]) => !['lines', 'batches', 'frames', 'duplicate-batches'].includes(k))
      .reduce((s, [, n]) => s + n, 0);
    return `<tr data-app="${e(a.name)}"><td><a href="${e(appHref(a.name))}">${e(a.name)}</a></td><td>${e(clock(a.lastSeen))}</td><td class="num">${a.counters.lines ?? 0}</td><td class="num diagnoses">${a.diagnoses}</td><td>${codes}</td><td>${platform}</td><td class="num">${bad}</td></tr>`;
  });
  const body =
    apps.length === 0
      ? '<p id="no-apps">No app has sent anything yet. Add a drain: <code>heroku drains:add https://USER:PASSWORD@HOST/drain/APP</code>.</p>'
      : `<table id="apps"><thead><tr><th>app</th><th>last seen (UTC)</th><th>lines</th><th>diagnoses</th><th>by code</th><th>platform errors</th><th>bad input</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
  return page({ title: 'apps', kind: 'apps' }, `<h1>Apps</h1>\n${body}`);
}

interface Minute {
  requests: number;
  errors: Map<string, number>;
  platform: Map<string, number>;
}

/** Per-minute series and rankings of an app's counts. */
function tally(rows: readonly CountRow[], start: number, minutes: number) {
  const series: Minute[] = Array.from({ length: minutes }, () => ({
    requests: 0,
    errors: new Map(),
    platform: new Map(),
  }));
  const causes = new Map<string, { code: string; cause: string; n: number }>();
  const routes = new Map<string, { n: number; codes: Map<string, number> }>();
  const codes = new Set<string>();
  let requests = 0;
  let errors = 0;
  let noise = 0;
  for (const r of rows) {
    const m = series[r.minute - start];
    if (m === undefined) continue;
    if (r.kind === 'requests') {
      m.requests += r.n;
      requests += r.n;
    } else if (r.kind === 'platform') {
      m.platform.set(r.code, (m.platform.get(r.code) ?? 0) + r.n);
      codes.add(r.code);
    } else if (r.kind === 'diagnosis') {
      m.errors.set(r.code, (m.errors.get(r.code) ?? 0) + r.n);
      codes.add(r.code);
      if (causeInfo(r.cause)?.noise === true) noise += r.n;
      else errors += r.n;
      const ck = `${r.code} ${r.cause}`;
      const c = causes.get(ck) ?? { code: r.code, cause: r.cause, n: 0 };
      c.n += r.n;
      causes.set(ck, c);
      const ro = routes.get(r.route) ?? { n: 0, codes: new Map() };
      ro.n += r.n;
      ro.codes.set(r.code, (ro.codes.get(r.code) ?? 0) + r.n);
      routes.set(r.route, ro);
    }
  }
  return { series, causes, routes, codes: [...codes].sort(), requests, errors, noise };
}

function timeline(series: readonly Minute[], codes: readonly string[], start: number): string {
  const width = 960;
  const height = 230;
  const left = 40;
  const right = 44;
  const bottom = 24;
  const plotW = width - left - right;
  const plotH = height - bottom - 10;
  const bw = plotW / Math.max(series.length, 1);
  const colour = (code: string) => PALETTE[codes.indexOf(code) % PALETTE.length] as string;
  let max = 1;
  for (const m of series) {
    let sum = 0;
    for (const n of m.errors.values()) sum += n;
    for (const n of m.platform.values()) sum += n;
    max = Math.max(max, sum);
  }
  const parts = [
    `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="errors per minute by code, and the error rate">`,
    `<line x1="${left}" y1="${10 + plotH}" x2="${width - right}" y2="${10 + plotH}" stroke="#999"/>`,
    `<text x="4" y="18" class="axis">${max}</text><text x="4" y="${10 + plotH}" class="axis">0</text>`,
    `<text x="${width - right + 4}" y="18" class="axis">100 %</text><text x="${width - right + 4}" y="${10 + plotH}" class="axis">0 %</text>`,
  ];
  const rate: string[] = [];
  series.forEach((m, i) => {
    let y = 10 + plotH;
    const stack = [
      ...[...m.errors].map(([c, n]) => ({ c, n, kind: 'error' })),
      ...[...m.platform].map(([c, n]) => ({ c, n, kind: 'platform' })),
    ];
    for (const s of stack) {
      const h = (s.n / max) * plotH;
      y -= h;
      parts.push(
        `<rect class="bar ${s.kind}" data-code="${e(s.c)}" x="${(left + i * bw).toFixed(2)}" y="${y.toFixed(2)}" width="${Math.max(bw - 1, 0.5).toFixed(2)}" height="${h.toFixed(2)}" fill="${colour(s.c)}"${s.kind === 'platform' ? ' fill-opacity="0.55"' : ''}><title>${e(minuteClock(start + i))} ${e(s.c)}: ${s.n}</title></rect>`,
      );
    }
    let errs = 0;
    for (const n of m.errors.values()) errs += n;
    if (m.requests > 0) {
      const r = Math.min(errs / m.requests, 1);
      const x = (left + (i + 0.5) * bw).toFixed(2);
      const y2 = (10 + plotH - r * plotH).toFixed(2);
      rate.push(`${x},${y2}`);
      parts.push(
        `<circle class="rate" cx="${x}" cy="${y2}" r="3" fill="#222"><title>${e(minuteClock(start + i))} error rate ${pct(errs, m.requests)} (${errs} of ${m.requests})</title></circle>`,
      );
    }
  });
  if (rate.length > 0)
    parts.push(
      `<polyline id="rate" points="${rate.join(' ')}" fill="none" stroke="#222" stroke-width="1.5"><title>router errors / router lines per minute</title></polyline>`,
    );
  parts.push(`<text x="${left}" y="${height - 6}" class="axis">${e(minuteClock(start))}</text>`);
  parts.push(
    `<text x="${width - right}" y="${height - 6}" class="axis" text-anchor="end">${e(minuteClock(start + series.length - 1))} UTC, 1 min per bar</text>`,
  );
  parts.push('</svg>');
  const keys = codes.map((c, k) => {
    const x = k * 90;
    return `<rect x="${x}" y="4" width="10" height="10" fill="${colour(c)}"/><text x="${x + 14}" y="13" class="axis">${e(c)}</text>`;
  });
  const rx = codes.length * 90;
  keys.push(
    `<line x1="${rx}" y1="9" x2="${rx + 14}" y2="9" stroke="#222" stroke-width="1.5"/><text x="${rx + 18}" y="13" class="axis">error rate</text>`,
  );
  return `${parts.join('')}<svg class="legend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 960 18" role="img" aria-label="legend">${keys.join('')}</svg>`;
}

function evidencePre(d: DiagnosisJson): string {
  const ev = d.evidence.map((x) => `<span class="ev">${e(x.line)}</span>`);
  return `<pre><span class="router">${e(d.line)}</span>${ev.length > 0 ? `\n${ev.join('\n')}` : ''}</pre>`;
}

/** One diagnosis with its explanation, evidence and fix (app page, request page). */
export function diagnosisSection(k: KeyedDiagnosis, withLink: boolean): string {
  const d = k.json;
  const info = causeInfo(d.cause);
  const link = withLink
    ? ` <a class="details" href="${e(diagnosisHref(k.app, k.key))}">details</a>`
    : '';
  return `<section class="cause${info?.noise === true ? ' noise' : ''}" data-key="${e(k.key)}"><h3>${e(d.code)} ${e(descOf(d.code))} — ${e(d.cause)}${info === undefined ? '' : `: ${e(info.title)}`}${link}</h3>
<p>${e(clock(d.time))} UTC · ${e(d.method)} <code>${e(d.path)}</code> · ${e(d.dyno ?? '')} · request ${d.requestId === null ? '–' : `<a href="${e(requestHref(d.requestId))}">${e(d.requestId)}</a>`}</p>
<p>${e(d.reason)} (${e(d.confidence)})</p>
<p class="fix"><b>Fix:</b> ${e(fixOf(d.code, d.cause as CauseId))}</p>
${evidencePre(d)}</section>`;
}

export interface AppPageData {
  readonly app: string;
  readonly endMinute: number | null;
  readonly minutes: number;
  readonly rows: readonly CountRow[];
  readonly latest: readonly KeyedDiagnosis[];
  readonly platform: readonly StoredPlatformError[];
}

export function appPage(p: AppPageData): string {
  const parts: string[] = [`<h1>${e(p.app)}</h1>`];
  if (p.endMinute === null) {
    parts.push('<p id="summary">Nothing counted yet.</p>');
  } else {
    // From the first minute with counts (within the period), at least MIN_CHART_MINUTES wide.
    const first = p.rows.reduce((m, r) => Math.min(m, r.minute), p.endMinute);
    const span = Math.min(p.minutes, Math.max(MIN_CHART_MINUTES, p.endMinute - first + 1));
    const start = p.endMinute - span + 1;
    const t = tally(p.rows, start, span);
    parts.push(
      `<p id="summary">${e(minuteClock(start))} to ${e(minuteClock(p.endMinute))} UTC (the last ${span} minutes with logs): ${t.requests} router lines, <b>${t.errors} errors</b> (error rate <b id="error-rate">${pct(t.errors, t.requests)}</b>)${t.noise > 0 ? `, ${t.noise} client-side` : ''}.</p>`,
      '<h2>Codes and platform errors over time</h2>',
      timeline(t.series, t.codes, start),
    );
    const causes = [...t.causes.values()].sort((a, b) => b.n - a.n);
    parts.push(
      '<h2>Causes</h2>',
      causes.length === 0
        ? '<p>No router errors in this period.</p>'
        : `<table id="causes"><thead><tr><th>code</th><th>cause</th><th>count</th><th>share</th><th>fix</th></tr></thead><tbody>${causes
            .map(
              (c) =>
                `<tr><td>${e(c.code)}</td><td>${e(c.cause)}${causeInfo(c.cause) === undefined ? '' : `: ${e(causeInfo(c.cause)?.title ?? '')}`}</td><td class="num">${c.n}</td><td class="num">${pct(c.n, t.errors + t.noise)}</td><td class="fix">${e(fixOf(c.code, c.cause as CauseId))}</td></tr>`,
            )
            .join('')}</tbody></table>`,
    );
    const routes = [...t.routes.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, 20);
    parts.push(
      '<h2>Routes</h2>',
      routes.length === 0
        ? '<p>No route had a router error in this period.</p>'
        : `<table id="routes"><thead><tr><th>route</th><th>errors</th><th>codes</th></tr></thead><tbody>${routes
            .map(
              ([route, r]) =>
                `<tr><td><code>${e(route)}</code></td><td class="num">${r.n}</td><td>${[...r.codes]
                  .map(([c, n]) => `${e(c)} ${n}`)
                  .join(', ')}</td></tr>`,
            )
            .join('')}</tbody></table>`,
    );
  }
  parts.push(
    '<h2>Platform errors</h2>',
    p.platform.length === 0
      ? '<p>None kept.</p>'
      : `<pre id="platform">${p.platform.map((x) => e(x.line)).join('\n')}</pre>`,
  );
  const rows = p.latest.map((k) => diagnosisRow(k)).join('\n');
  parts.push(
    '<h2>Latest diagnoses</h2>',
    `<table id="latest"><thead><tr><th>time (UTC)</th><th>code</th><th>cause</th><th>request</th><th>request id</th><th></th></tr></thead><tbody>
${rows}
</tbody></table>`,
    p.latest.length === 0 ? '<p id="no-diagnoses">No diagnosis yet.</p>' : '',
    '<h2>Evidence of the latest</h2>',
    `<div id="evidence">${p.latest
      .slice(0, 5)
      .map((k) => diagnosisSection(k, true))
      .join('\n')}</div>`,
  );
  return page({ title: p.app, kind: 'app', app: p.app }, parts.join('\n'));
}

function diagnosisRow(k: KeyedDiagnosis): string {
  const d = k.json;
  return `<tr data-key="${e(k.key)}"><td>${e(clock(d.time))}</td><td>${e(d.code)}</td><td>${e(d.cause)}</td><td>${e(d.method)} <code>${e(d.path)}</code></td><td>${d.requestId === null ? '' : `<a href="${e(requestHref(d.requestId))}">${e(d.requestId)}</a>`}</td><td><a href="${e(diagnosisHref(k.app, k.key))}">details</a></td></tr>`;
}

export function diagnosisPage(k: KeyedDiagnosis): string {
  const d = k.json;
  const info = causeInfo(d.cause);
  const fields: Array<[string, string]> = [
    ['time', `${clock(d.time)} UTC`],
    ['request', `${d.method} ${d.path}`],
    ['route', d.route],
    ['dyno', d.dyno ?? ''],
    ['service', d.serviceMs === null ? '' : `${d.serviceMs} ms`],
    ['status', d.status === null ? '' : String(d.status)],
    ['bytes', d.bytes === null ? '' : String(d.bytes)],
    ['confidence', d.confidence],
  ];
  const body = `<h1>${e(d.code)} ${e(descOf(d.code))} — ${e(d.cause)}</h1>
<p><a href="${e(appHref(k.app))}">${e(k.app)}</a>${d.requestId === null ? '' : ` · request id <a id="request-link" href="${e(requestHref(d.requestId))}">${e(d.requestId)}</a>`}</p>
<section class="cause${info?.noise === true ? ' noise' : ''}">
${info === undefined ? '' : `<h3>${e(info.title)}</h3><p>${e(info.explain)}</p>`}
<p><b>Why this cause:</b> ${e(d.reason)}</p>
<p class="fix"><b>Fix:</b> ${e(fixOf(d.code, d.cause as CauseId))}</p>
${info?.guard == null ? '' : `<p class="guard"><b>Guard:</b> ${e(info.guard)}</p>`}
</section>
<table id="fields"><tbody>${fields.map(([k2, v]) => `<tr><th>${e(k2)}</th><td>${e(v)}</td></tr>`).join('')}</tbody></table>
<h2>Evidence</h2>
${evidencePre(d)}
${d.frames.length === 0 ? '' : `<h2>Stack frames</h2><pre>${d.frames.map(e).join('\n')}</pre>`}`;
  return page({ title: `${d.code} ${d.cause}`, kind: 'diagnosis', app: k.app }, body);
}

/** A page that only says what went wrong (an unknown app or diagnosis). */
export function messagePage(title: string, message: string): string {
  return page(
    { title, kind: 'message' },
    `<h1>${e(title)}</h1>\n<p class="error">${e(message)}</p>`,
  );
}

export function requestPage(id: string, trail: RequestTrail | null, error: string | null): string {
  const parts = [
    '<h1>Follow a request id</h1>',
    `<form action="/requests" method="get"><input name="id" size="50" value="${e(id)}" aria-label="request id"> <button type="submit">find</button></form>`,
    "<p>Heroku's router names each request in <code>request_id=</code> and passes it to the app as the <code>X-Request-Id</code> header: log it in the app and every line of that request is found here.</p>",
  ];
  if (error !== null) parts.push(`<p class="error">${e(error)}</p>`);
  if (trail !== null) {
    parts.push(
      `<p id="found">${trail.diagnoses.length} diagnos${trail.diagnoses.length === 1 ? 'is' : 'es'}, ${trail.lines.length} line${trail.lines.length === 1 ? '' : 's'} carrying <code>${e(trail.requestId)}</code>.</p>`,
    );
    for (const d of trail.diagnoses)
      parts.push(diagnosisSection({ app: d.app, key: '', json: d }, false));
    if (trail.lines.length > 0)
      parts.push(
        '<h2>Lines</h2>',
        `<pre id="lines">${trail.lines.map((l) => `${e(l.app)}  ${e(l.line)}`).join('\n')}</pre>`,
      );
    parts.push(
      `<p class="axis">searched ${trail.searched.around.length > 0 ? `within 2 min of ${trail.searched.around.map((a) => e(clock(a))).join(', ')}` : `the latest ${trail.searched.latestLines} lines`}</p>`,
    );
  }
  return page({ title: 'request', kind: 'request' }, parts.join('\n'));
}
