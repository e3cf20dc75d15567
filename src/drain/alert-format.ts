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
 *
 * `*bold*`, `_italic_`, `~strike~`, `` `code` `` and ``` blocks have no escape in mrkdwn
 * (Slack documents none; jsx-slack's docs say the same and replace characters). So each logged
 * value is shown as inline code, inside which Slack applies no formatting, and a backtick in
 * it, which would end the code span, becomes the look-alike `ˋ` (U+02CB). Line breaks become
 * spaces so a value cannot start a `>` quote line. The JSON form carries the exact values.
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

/** A logged value as mrkdwn that formats nothing: escaped, on one line, as inline code. */
export function slackLiteral(text: string): string {
  if (text === '') return '–';
  const safe = slackEscape(text)
    .replace(/`/g, '\u02cb')
    .replace(/[\r\n\u2028\u2029]+/g, ' ');
  return `\`${safe}\``;
}

/** Long logged values are cut so one alert stays one readable message. */
const cut = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

function slackText(alert: Alert, suppressed: number): string {
  // Values from logs: inline code. h13's own texts (descriptions, fixes): escaped only.
  const v = (t: string) => slackLiteral(cut(t));
  const own = (t: string) => slackEscape(t);
  const d = alert.diagnosis;
  const where = `${v(d.method)} ${v(d.path)}`;
  const head =
    alert.kind === 'new-cause'
      ? `*h13 drain* · new cause for ${v(alert.app)}: ${v(d.code)} (${own(descOf(d.code))}) — ${v(d.cause)} on route ${v(d.route)}`
      : `*h13 drain* · error rate for ${v(alert.app)}: ${alert.errors} of ${alert.requests} requests (${((100 * alert.errors) / Math.max(alert.requests, 1)).toFixed(1)} %, threshold ${alert.thresholdPercent} %) in the ${Math.round(alert.windowMs / 1000)} s to ${v(alert.until ?? '?')}; latest: ${v(d.code)} ${v(d.cause)}`;
  const lines = [
    head,
    `${where} · request ${v(d.requestId ?? '–')} · ${v(d.time ?? '?')}`,
    `Why: ${v(d.reason)}`,
    `Fix: ${own(fixOf(d.code, d.cause))}`,
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
