/**
 * `--html FILE`: one self-contained page (inline CSS and SVG, no script, no fetch) with the
 * summary, a timeline of errors per code with deploy/restart/crash markers, and the
 * evidence lines. Every log-derived string goes through escapeHtml; a Content-Security-Policy
 * that allows no script at all backs that up.
 */

import { escapeHtml } from '../core/html.js';
import { PALETTE, REPORT_CSS } from '../core/report-style.js';
import { CAUSES } from './causes.js';
import { type DiagnosisJson, descOf, type GroupJson, type ReportJson } from './report.js';

const MARKER_COLOURS: Readonly<Record<string, string>> = {
  release: '#1f77b4',
  sigterm: '#ff7f0e',
  restart: '#17becf',
  crash: '#d62728',
  exit: '#8c564b',
  'boot-failure': '#9467bd',
  memory: '#e377c2',
};

const e = escapeHtml;
const clock = (iso: string | null) => (iso === null ? '?' : iso.slice(0, 19).replace('T', ' '));

function timelineSvg(r: ReportJson): string {
  const t = r.timeline;
  const codes = Object.keys(t.errors);
  const buckets = Math.max(t.requests.length, ...codes.map((c) => t.errors[c]?.length ?? 0), 1);
  const width = 960;
  const height = 220;
  const left = 40;
  const bottom = 24;
  const plotW = width - left - 10;
  const plotH = height - bottom - 10;
  const bw = plotW / buckets;
  let max = 1;
  for (let i = 0; i < buckets; i++) {
    let sum = 0;
    for (const c of codes) sum += t.errors[c]?.[i] ?? 0;
    max = Math.max(max, sum);
  }
  const parts: string[] = [];
  parts.push(
    `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="errors per code over time">`,
  );
  parts.push(
    `<line x1="${left}" y1="${10 + plotH}" x2="${width - 10}" y2="${10 + plotH}" stroke="#999"/>`,
  );
  parts.push(
    `<text x="4" y="18" class="axis">${max}</text><text x="4" y="${10 + plotH}" class="axis">0</text>`,
  );
  for (let i = 0; i < buckets; i++) {
    let y = 10 + plotH;
    codes.forEach((c, k) => {
      const v = t.errors[c]?.[i] ?? 0;
      if (v === 0) return;
      const h = (v / max) * plotH;
      y -= h;
      parts.push(
        `<rect class="bar" data-code="${e(c)}" x="${(left + i * bw).toFixed(2)}" y="${y.toFixed(2)}" width="${Math.max(bw - 0.5, 0.5).toFixed(2)}" height="${h.toFixed(2)}" fill="${PALETTE[k % PALETTE.length]}"><title>${e(c)}: ${v}</title></rect>`,
      );
    });
  }
  // Markers go over the bars (drawn after them) with a solid head above the plot, so a
  // restart or a crash is never hidden behind the errors it caused.
  const start = t.start === null ? Number.NaN : Date.parse(t.start);
  for (const m of t.markers) {
    if (m.time === null || Number.isNaN(start)) continue;
    const x = left + ((Date.parse(m.time) - start) / 1000 / t.bucketSeconds) * bw;
    if (!(x >= left && x <= width)) continue;
    const colour = MARKER_COLOURS[m.kind] ?? '#333';
    const title = `<title>${e(clock(m.time))} ${e(m.process)}: ${e(m.kind)} ${e(m.detail)}</title>`;
    parts.push(
      `<g class="marker" data-kind="${e(m.kind)}"><line x1="${x.toFixed(2)}" x2="${x.toFixed(2)}" y1="4" y2="${10 + plotH}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="3,2"/><path d="M${(x - 4).toFixed(2)} 0 L${(x + 4).toFixed(2)} 0 L${x.toFixed(2)} 7 Z" fill="${colour}"/>${title}</g>`,
    );
  }
  parts.push(`<text x="${left}" y="${height - 6}" class="axis">${e(clock(t.start))}</text>`);
  parts.push(
    `<text x="${width - 10}" y="${height - 6}" class="axis" text-anchor="end">${e(`${t.bucketSeconds} s per bar`)}</text>`,
  );
  parts.push('</svg>');
  const legend = codes
    .map(
      (c, k) =>
        `<span class="key"><i style="background:${PALETTE[k % PALETTE.length]}"></i>${e(c)}</span>`,
    )
    .concat(
      Object.entries(MARKER_COLOURS).map(
        ([k, col]) =>
          `<span class="key"><i class="dash" style="border-color:${col}"></i>${e(k)}</span>`,
      ),
    )
    .join(' ');
  return `${parts.join('')}<p class="legend">${legend}</p>`;
}

function ratesTable(r: ReportJson): string {
  const rates = r.rates;
  if (rates.rate === null || rates.errors === 0) return '';
  const pct = (v: number | null) => (v === null ? '' : `${(v * 100).toFixed(2)}%`);
  const rows = rates.byRoute
    .map(
      (x) =>
        `<tr><td><code>${e(x.route)}</code></td><td class="num">${x.errors}</td><td class="num">${x.requests}</td><td class="num">${pct(x.rate)}</td></tr>`,
    )
    .join('');
  return `<h2>Error rates</h2><p id="rates">${pct(rates.rate)} of ${rates.requests} requests${rates.peak === null ? '' : `; peak ${pct(rates.peak.rate)} at ${e(clock(rates.peak.time))}`}.</p><table><thead><tr><th>route</th><th>errors</th><th>requests</th><th>rate</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function evidenceBlock(d: DiagnosisJson): string {
  const lines =
    d.evidence.length === 0 ? [] : d.evidence.map((x) => `<span class="ev">${e(x.line)}</span>`);
  return `<div class="sample"><p><b>${e(d.code)}</b> ${e(d.method)} <code>${e(d.path)}</code> ${e(d.dyno ?? '')} — <b>${e(d.cause)}</b> (${e(d.confidence)}): ${e(d.reason)}</p><pre><span class="router">${e(d.line)}</span>${lines.length > 0 ? `\n${lines.join('\n')}` : ''}</pre></div>`;
}

function groupRow(g: GroupJson): string {
  const s = g.serviceMs;
  return `<tr><td>${e(g.code)}</td><td>${e(g.cause)}</td><td>${e(g.methods.join(' '))} <code>${e(g.route)}</code></td><td class="num">${g.count}</td><td>${e(g.dynos.join(', '))}</td><td>${e(clock(g.firstSeen))}</td><td>${e(clock(g.lastSeen))}</td><td class="num">${s.p50 ?? ''}</td><td class="num">${s.p95 ?? ''}</td><td class="num">${s.max ?? ''}</td></tr>`;
}

export function renderHtml(r: ReportJson): string {
  const i = r.input;
  const causeSections = r.causes
    .map((c) => {
      const groups = r.groups.filter((g) => g.code === c.code && g.cause === c.cause);
      const frames = new Map<string, number>();
      for (const g of groups)
        for (const f of g.topFrames) frames.set(f.frame, (frames.get(f.frame) ?? 0) + f.count);
      const top = [...frames.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
      const samples = groups.flatMap((g) => g.samples).slice(0, 3);
      const info = CAUSES[c.cause];
      return `<section class="cause${c.noise ? ' noise' : ''}"><h3>${e(c.code)} ${e(descOf(c.code))} — ${e(c.cause)}: ${e(info.title)} <span class="count">${c.count}</span></h3>
<p>${e(c.explain)}</p><p class="fix"><b>Fix:</b> ${e(c.fix)}</p>${c.guard === null ? '' : `<p class="guard"><b>Guard:</b> ${e(c.guard)}</p>`}
${top.length === 0 ? '' : `<p><b>Top frames</b></p><pre>${top.map(([f, k]) => `${k}× ${e(f)}`).join('\n')}</pre>`}
<details${c.noise ? '' : ' open'}><summary>Evidence (${samples.length} sample${samples.length === 1 ? '' : 's'})</summary>${samples.map(evidenceBlock).join('')}</details></section>`;
    })
    .join('\n');
  const unparsed =
    i.unparsed === 0
      ? ''
      : `<section><h2>Unparsed input</h2><p>${i.unparsed} entries (${i.oversized} oversized, ${i.truncatedFrames} truncated frames). First ones:</p><pre>${i.unparsedSamples.map(e).join('\n')}</pre></section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>h13 analyze report</title>
<style>
${REPORT_CSS}</style></head><body>
<h1>h13 analyze report</h1>
<p id="summary">${i.records} entries read (${i.parsed} parsed, ${i.unparsed} unparsed) from ${e(clock(i.firstSeen))} to ${e(clock(i.lastSeen))} UTC. Router: ${i.routerLines} lines, <b>${r.totals.errors} errors</b>${r.totals.noise > 0 ? `, ${r.totals.noise} client-side` : ''}.</p>
<h2>Timeline</h2>
${timelineSvg(r)}
${ratesTable(r)}
<h2>Causes</h2>
${causeSections === '' ? '<p>No router errors found.</p>' : causeSections}
<h2>Routes</h2>
<table><thead><tr><th>code</th><th>cause</th><th>route</th><th>count</th><th>dynos</th><th>first</th><th>last</th><th>p50 ms</th><th>p95 ms</th><th>max ms</th></tr></thead><tbody>
${r.groups.map(groupRow).join('\n')}
</tbody></table>
${unparsed}
<p class="axis">schema ${e(r.schema)} — generated by h13 analyze</p>
</body></html>
`;
}
