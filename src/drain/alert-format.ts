/**
 * What an alert says, in each webhook form: `slack` (Slack's incoming-webhook JSON,
 * `{"text": …}`, also read by Mattermost, Rocket.Chat and Discord's /slack endpoint) and
 * `json` (the alert as data, its diagnosis in the schema of `h13 analyze --json`).
 *
 * Slack reads `text` as mrkdwn, where `<…>` makes links and mentions (`<!channel>`,
 * `<@U123>`, `<https://x|click>`) and `&` starts an entity. Slack's "Formatting text" guide
 * says to escape exactly `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;`; every logged value goes
 * through slackEscape, so a log line cannot ping a channel or plant a link. Plain `@channel`
 * is not a mention in a webhook's text (no link_names), and unfurling is turned off.
 */

import { DIAGNOSIS_SCHEMA, type DiagnosisJson, descOf, fixOf } from '../analyze/report.js';

export const ALERT_SCHEMA = 'h13.drain.alert/1';
export const WEBHOOK_FORMS = ['slack', 'json'] as const;
export type WebhookForm = (typeof WEBHOOK_FORMS)[number];

export type Alert =
  | {
      readonly kind: 'new-cause';
      readonly app: string;
      readonly diagnosis: DiagnosisJson;
    }
  | {
      readonly kind: 'error-rate';
      readonly app: string;
      readonly errors: number;
      readonly requests: number;
      readonly thresholdPercent: number;
      readonly windowMs: number;
      /** End of the window: the log time of the diagnosis that set it off. */
      readonly until: string | null;
      readonly diagnosis: DiagnosisJson;
    };

export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Long logged values are cut so one alert stays one readable message. */
const cut = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

function slackText(alert: Alert, suppressed: number): string {
  const s = (t: string) => slackEscape(cut(t));
  const d = alert.diagnosis;
  const where = `${s(d.method)} ${s(d.path)}`;
  const head =
    alert.kind === 'new-cause'
      ? `*h13 drain* · new cause for *${s(alert.app)}*: ${s(d.code)} (${s(descOf(d.code))}) — *${s(d.cause)}* on route \`${s(d.route)}\``
      : `*h13 drain* · error rate for *${s(alert.app)}*: ${alert.errors} of ${alert.requests} requests (${((100 * alert.errors) / Math.max(alert.requests, 1)).toFixed(1)} %, threshold ${alert.thresholdPercent} %) in the ${Math.round(alert.windowMs / 1000)} s to ${s(alert.until ?? '?')}; latest: ${s(d.code)} ${s(d.cause)}`;
  const lines = [
    head,
    `${where} · request ${s(d.requestId ?? '–')} · ${s(d.time ?? '?')}`,
    `Why: ${s(d.reason)}`,
    `Fix: ${s(fixOf(d.code, d.cause))}`,
  ];
  if (suppressed > 0)
    lines.push(
      `(${suppressed} more alert${suppressed === 1 ? '' : 's'} for this app held back by the rate limit)`,
    );
  return lines.join('\n');
}

/** The request body an alert is posted as. */
export function alertBody(form: WebhookForm, alert: Alert, suppressed: number): string {
  if (form === 'slack')
    return JSON.stringify({
      text: slackText(alert, suppressed),
      unfurl_links: false,
      unfurl_media: false,
    });
  return JSON.stringify({
    schema: ALERT_SCHEMA,
    diagnosisSchema: DIAGNOSIS_SCHEMA,
    ...alert,
    suppressed,
  });
}
