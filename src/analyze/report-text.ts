/**
 * The terminal summary: per code, each cause with its routes, proof lines, top frames and
 * fix; client-side noise and unparsed input at the end. Colour only when asked (TTY and no
 * NO_COLOR), and every log-derived string goes through displaySample (no raw control bytes).
 */

import { CAUSES } from './causes.js';
import { displaySample } from './line-parse.js';
import { isPlatformCode } from './platform-errors.js';
import { type DiagnosisJson, descOf, fixOf, type GroupJson, type ReportJson } from './report.js';

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function paint(color: boolean): Paint {
  return color
    ? {
        bold: wrap(1, 22),
        dim: wrap(2, 22),
        red: wrap(31, 39),
        yellow: wrap(33, 39),
        green: wrap(32, 39),
        cyan: wrap(36, 39),
      }
    : { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain };
}

const n = (v: number) => v.toLocaleString('en-US');
const pct = (rate: number) => `${(rate * 100).toFixed(rate < 0.001 ? 3 : rate < 0.1 ? 2 : 1)}%`;
const clock = (iso: string | null) => (iso === null ? '?' : iso.slice(0, 19).replace('T', ' '));
const show = (s: string, max = 200) => displaySample(s, max);

function confidenceText(p: Paint, c: DiagnosisJson['confidence']): string {
  return c === 'high' ? p.green(c) : c === 'medium' ? p.yellow(c) : p.dim(c);
}

/** One diagnosis, as `--follow` prints it the moment its window closes. */
export function formatDiagnosis(d: DiagnosisJson, p: Paint): string {
  const lines = [
    `${p.dim(clock(d.time))} ${p.red(p.bold(d.code))} ${show(d.method, 16)} ${show(d.path, 100)}` +
      `${d.dyno === null ? '' : ` ${show(d.dyno, 20)}`}${d.serviceMs === null ? '' : ` service=${d.serviceMs}ms`}` +
      ` → ${p.bold(d.cause)} (${confidenceText(p, d.confidence)})`,
    `  ${show(d.reason, 300)}`,
  ];
  for (const e of d.evidence.slice(0, 8)) lines.push(`  ${p.dim('│')} ${show(e.line)}`);
  if (d.requestId !== null) lines.push(`  ${p.dim(`request_id=${show(d.requestId, 80)}`)}`);
  lines.push(`  fix: ${fixOf(d.code, d.cause)}`);
  return lines.join('\n');
}

function groupLine(g: GroupJson): string {
  const s = g.serviceMs;
  const service = s.count === 0 ? '' : `  service p50 ${s.p50}ms p95 ${s.p95}ms max ${s.max}ms`;
  const dynos = g.dynos.length === 0 ? '' : `  ${g.dynos.map((d) => show(d, 20)).join(',')}`;
  return `${String(g.count).padStart(6)}× ${g.methods.map((m) => show(m, 16)).join('|')} ${show(g.route, 80)}${dynos}  ${clock(g.firstSeen)} → ${clock(g.lastSeen)}${service}`;
}

export function formatSummary(report: ReportJson, p: Paint): string {
  const out: string[] = [];
  const i = report.input;
  out.push(
    p.bold('h13 analyze') +
      `: ${n(i.records)} entries (${n(i.parsed)} parsed, ${n(i.unparsed)} unparsed), ` +
      `${clock(i.firstSeen)} → ${clock(i.lastSeen)} UTC`,
  );
  const codes = Object.entries(report.totals.byCode)
    .filter(([c]) => !isPlatformCode(c))
    .map(([c, k]) => `${c} ×${k}`)
    .join(', ');
  const platformCodes = Object.entries(report.totals.byCode)
    .filter(([c]) => isPlatformCode(c))
    .map(([c, k]) => `${c} ×${k}`)
    .join(', ');
  out.push(
    `router: ${n(i.routerLines)} lines, ${n(report.totals.errors)} errors` +
      `${report.totals.noise > 0 ? ` + ${n(report.totals.noise)} client-side` : ''}${codes === '' ? '' : ` (${codes})`}`,
  );
  if (platformCodes !== '')
    out.push(`platform: ${n(report.totals.platform)} errors (${platformCodes})`);
  const rates = report.rates;
  if (rates.rate !== null && rates.errors > 0) {
    const routes = rates.byRoute
      .slice(0, 5)
      .map(
        (r) =>
          `${show(r.route, 60)} ${r.rate === null ? '?' : pct(r.rate)} (${n(r.errors)}/${n(r.requests)})`,
      )
      .join(', ');
    out.push(
      `error rate: ${pct(rates.rate)} (${n(rates.errors)} of ${n(rates.requests)} requests)` +
        `${rates.peak === null ? '' : `; peak ${pct(rates.peak.rate)} at ${clock(rates.peak.time)}`}` +
        `${routes === '' ? '' : `; by route: ${routes}`}`,
    );
  }
  if (report.groups.length === 0) {
    out.push('', p.green('No router errors found.'));
  }
  const byCode = new Map<string, GroupJson[]>();
  for (const g of report.groups) {
    if (g.noise) continue;
    const list = byCode.get(g.code) ?? [];
    list.push(g);
    byCode.set(g.code, list);
  }
  const order = [...byCode.keys()].sort(
    (a, b) => (report.totals.byCode[b] ?? 0) - (report.totals.byCode[a] ?? 0),
  );
  for (const code of order) {
    const groups = byCode.get(code) as GroupJson[];
    out.push(
      '',
      p.red(p.bold(`${code} ${descOf(code)}`)) + ` — ${n(report.totals.byCode[code] ?? 0)}`,
    );
    const causes = new Map<string, GroupJson[]>();
    for (const g of groups) causes.set(g.cause, [...(causes.get(g.cause) ?? []), g]);
    for (const [cause, list] of causes) {
      const total = list.reduce((a, g) => a + g.count, 0);
      const conf = { high: 0, medium: 0, low: 0 };
      for (const g of list)
        for (const k of ['high', 'medium', 'low'] as const) conf[k] += g.confidence[k];
      const confText = (['high', 'medium', 'low'] as const)
        .filter((k) => conf[k] > 0)
        .map((k) => `${confidenceText(p, k)} ${conf[k]}`)
        .join(', ');
      const info = CAUSES[cause as keyof typeof CAUSES];
      out.push(`  ${p.bold(`● ${cause}`)} — ${info.title} — ${n(total)} (${confText})`);
      for (const g of list.slice(0, 8)) out.push(`   ${groupLine(g)}`);
      if (list.length > 8) out.push(`   … ${list.length - 8} more routes`);
      const sample = list[0]?.samples[0];
      if (sample !== undefined) {
        out.push(`    why: ${show(sample.reason, 300)}`);
        for (const e of sample.evidence.slice(0, 8)) out.push(`    ${p.dim('│')} ${show(e.line)}`);
        if (sample.evidence.length === 0) out.push(`    ${p.dim('│')} ${show(sample.line)}`);
      }
      const frames = new Map<string, number>();
      for (const g of list)
        for (const f of g.topFrames) frames.set(f.frame, (frames.get(f.frame) ?? 0) + f.count);
      const top = [...frames.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
      if (top.length > 0) {
        out.push('    top frames:');
        for (const [f, k] of top) out.push(`      ${String(k).padStart(5)}× ${show(f, 160)}`);
      }
      out.push(`    ${p.cyan('fix:')} ${list[0]?.fix ?? info.fix}`);
      if (info.guard !== null) out.push(`    ${p.cyan('guard:')} ${info.guard}`);
    }
  }
  const noise = report.groups.filter((g) => g.noise);
  if (noise.length > 0) {
    const byNoise = new Map<string, number>();
    for (const g of noise) byNoise.set(g.code, (byNoise.get(g.code) ?? 0) + g.count);
    out.push(
      '',
      p.dim(
        `client side (not the app's fault): ${[...byNoise.entries()].map(([c, k]) => `${c} ${descOf(c)} ×${k}`).join(', ')}`,
      ),
    );
  }
  if (i.unparsed > 0) {
    out.push(
      '',
      p.yellow(
        `unparsed: ${n(i.unparsed)} entries${i.oversized > 0 ? ` (${n(i.oversized)} oversized)` : ''}` +
          `${i.truncatedFrames > 0 ? `, ${n(i.truncatedFrames)} truncated drain frames` : ''}; first ones:`,
      ),
    );
    for (const s of i.unparsedSamples) out.push(`  ${s}`);
  }
  return out.join('\n');
}
