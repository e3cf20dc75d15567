/**
 * The probe report as a terminal reads it: one table per group, then the findings grouped by
 * cause (forty malformed requests dropped for one reason are one problem, listed once).
 * Colour only when asked (stdout is a TTY and NO_COLOR is unset).
 */

import type { CaseResult } from './bad-requests.js';
import type { Finding } from './findings.js';
import type { LifecycleResult } from './lifecycle.js';
import type { ProbeReport } from './probe.js';
import { VERDICTS } from './router-verdict.js';

interface Paint {
  red(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const ansi = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const PLAIN: Paint = { red: (s) => s, green: (s) => s, dim: (s) => s, bold: (s) => s };
const COLOUR: Paint = { red: ansi('31'), green: ansi('32'), dim: ansi('2'), bold: ansi('1') };

/**
 * `full`: every bad-request case in the table. By default only the cases that are findings are
 * listed (the rest are counted in the group's summary line): the report fits a screen.
 */
export function renderReport(
  report: ProbeReport,
  colour: boolean,
  options: { readonly full?: boolean } = {},
): string {
  const p = colour ? COLOUR : PLAIN;
  const out: string[] = [];
  const t = report.target;
  out.push(
    p.bold(`h13 probe http://${t.host}:${t.port}${t.path}`) +
      (t.command === null ? '' : p.dim(` (spawned: ${t.command.join(' ')})`)),
    p.dim(`compared with ${report.proxy.label}, idle timeout ${seconds(report.proxy.idleMs)}`),
  );
  if (report.badRequests !== null)
    out.push('', ...badRequestLines(report, p, options.full === true));
  if (report.keepAlive !== null) out.push('', ...keepAliveLines(report, p));
  if (report.timeouts !== null) {
    out.push('', p.bold('Timeouts'));
    for (const c of report.timeouts) {
      const status = c.status === null ? '' : ` ${c.status}`;
      const line = `  ${c.id.padEnd(16)} ${c.ending}${status} after ${seconds(c.afterMs)} (${c.what})`;
      out.push(c.finding === null ? line : p.red(line));
    }
  }
  for (const phase of [report.shutdown, report.crash]) {
    if (phase !== null) out.push('', ...lifecycleLines(phase, p));
  }
  out.push('', ...findingLines(report.findings, p));
  out.push(p.dim(`(${seconds(report.durationMs)})`));
  return out.join('\n');
}

function badRequestLines(report: ProbeReport, p: Paint, full: boolean): string[] {
  const b = report.badRequests;
  if (b === null) return [];
  const e = b.endings;
  const lines = [
    p.bold(`Bad requests: ${b.total} cases, ${b.forwarded} forwarded by the router as sent`),
    p.dim(
      `  answered ${e.answered}, silent ${e.silent}, reset ${e.reset}, truncated ${e.truncated}, ` +
        `open ${e.open}, refused ${e.refused}; ${b.conforming} answered as RFC 9112 allows`,
    ),
  ];
  const shown = full ? b.cases : b.cases.filter((c) => c.finding !== null);
  // A column header over no rows reads as a table that failed to print.
  if (shown.length > 0)
    lines.push(
      p.dim(
        `  ${'case'.padEnd(30)} ${'group'.padEnd(17)} ${'router'.padEnd(10)} ${'ending'.padEnd(9)} status`,
      ),
    );
  for (const c of shown) lines.push(caseLine(c, p));
  if (!full && shown.length < b.cases.length)
    lines.push(
      p.dim(
        shown.length === 0
          ? `  (no case is a finding: --full lists all ${b.cases.length})`
          : `  (${b.cases.length - shown.length} more cases without a finding: --full lists them)`,
      ),
    );
  if (e.refused > 0)
    lines.push(
      p.red(
        `  ${e.refused} case(s) were refused: the server stopped listening during the battery (did a request crash it?)`,
      ),
    );
  lines.push(
    p.dim('  router: ') +
      Object.entries(VERDICTS)
        .map(([k, v]) => p.dim(`${k} = ${v}`))
        .join(p.dim('; ')),
  );
  return lines;
}

function caseLine(c: CaseResult, p: Paint): string {
  const router = c.router.kind === 'reject' ? `reject ${c.router.status}` : c.router.kind;
  const row = `  ${c.id.padEnd(30)} ${c.group.padEnd(17)} ${router.padEnd(10)} ${c.ending.padEnd(9)} ${String(c.status ?? '-').padEnd(6)}`;
  if (c.finding !== null) return p.red(`${row} ${c.finding.code}`);
  if (c.router.kind !== 'forward') return p.dim(`${row} info`);
  return `${row} ${c.conforms ? p.green('ok') : p.dim('ok, not the RFC status')}`;
}

function keepAliveLines(report: ProbeReport, p: Paint): string[] {
  const k = report.keepAlive;
  if (k === null) return [];
  const adv =
    k.advertisedSeconds === null ? '' : ` (advertises Keep-Alive: timeout=${k.advertisedSeconds})`;
  const head =
    k.outcome === 'closed'
      ? `Keep-alive: the server closes an idle connection after ${seconds(k.idleTimeoutMs ?? 0)}${adv}`
      : k.outcome === 'still-open'
        ? `Keep-alive: still open after ${seconds(k.waitedMs)}${adv}` +
          (k.waitedMs < k.proxy.idleMs
            ? ' (shorter than the proxy idle timeout: inconclusive)'
            : '')
        : k.outcome === 'no-keepalive'
          ? 'Keep-alive: the server closes after each response (no reuse, no idle race)'
          : 'Keep-alive: the first request got no answer';
  const lines = [k.findings.length > 0 ? p.red(p.bold(head)) : p.bold(head)];
  if (k.race !== null) {
    const r = k.race;
    lines.push(
      `  race: ${r.sent} requests sent ${r.fromMs}…+${r.toMs} ms around the close: ` +
        `${r.served} served, ${r.lost} lost; ${r.closedFirst} connections closed before the send`,
    );
  }
  return lines;
}

function lifecycleLines(r: LifecycleResult, p: Paint): string[] {
  const exit =
    r.exit === null
      ? 'the app did not exit'
      : r.exit.killed
        ? `SIGKILLed after ${seconds(r.exit.afterMs)}`
        : r.exit.signal !== null
          ? `ended by ${r.exit.signal} after ${seconds(r.exit.afterMs)}`
          : `exited with status ${r.exit.code} after ${seconds(r.exit.afterMs)}`;
  const title = r.phase === 'shutdown' ? `Shutdown (${r.sigterms}× SIGTERM)` : 'Crash';
  const a = r.after;
  const lines = [
    p.bold(`${title}: ${exit}`),
    `  after the ${r.phase === 'shutdown' ? 'signal' : 'crash request'}: answered ${a.answered}, refused ${a.refused}, ` +
      `silent ${a.silent}, reset ${a.reset}, truncated ${a.truncated}, unanswered ${a.open}`,
  ];
  if (r.crashRequest !== null)
    lines.push(
      `  crash request: ${r.crashRequest.ending} ${r.crashRequest.status ?? ''}`.trimEnd(),
    );
  return lines;
}

function findingLines(findings: readonly Finding[], p: Paint): string[] {
  if (findings.length === 0)
    return [p.green('No findings: nothing here would be an H13 behind Heroku.')];
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.group}|${f.code}|${f.cause}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const lines = [p.red(p.bold(`Findings: ${findings.length}`))];
  for (const list of groups.values()) {
    const f = list[0] as Finding;
    if (list.length === 1) lines.push(p.red(`  ${f.code} ${f.group}/${f.id}: ${f.summary}`));
    else
      lines.push(
        p.red(`  ${f.code} × ${list.length} ${f.group}: ${list.map((x) => x.id).join(', ')}`),
        `    ${f.summary}`,
      );
    lines.push(`    cause: ${f.cause}`, `    fix:   ${f.fix}`);
  }
  return lines;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
