/**
 * Alerts to the webhooks the user configured, and to no other address: each is posted with
 * redirects refused, so a webhook cannot send the drain elsewhere.
 *
 * When:
 * - **new cause**: the first diagnosis of a cause on a route for an app. The store decides
 *   it in the transaction that stores the diagnosis (table cause_routes), so a restart, a
 *   replay or a second upload of the same log does not announce it again. A pair unseen for
 *   `--retention` is forgotten and is new again.
 * - **error rate**: router errors (client-side noise left out) over router lines in the
 *   `--alert-window` that ends at the new diagnosis's log time, from the per-minute counts,
 *   reaches `--alert-error-rate` percent with at least `--alert-min-requests` lines. It is
 *   announced when the rate goes above the threshold and again only after it has fallen below.
 *
 * Delivery: at most one alert per app and webhook each `--alert-interval`; the ones held back
 * are counted in the next. A failed post (network error, timeout, 429, 5xx) is retried after
 * `retryBaseMs` × 2^n, up to `--alert-retries` times; other answers are final. Deliveries in
 * flight are bounded per webhook; past that, alerts are dropped and logged.
 */

import type { CauseId } from '../analyze/causes.js';
import { isNoise } from '../analyze/causes.js';
import { H13Error } from '../core/errors.js';
import type { LogfmtValue } from '../core/logfmt.js';
import { type Alert, alertBody, WEBHOOK_FORMS, type WebhookForm } from './alert-format.js';
import type { NewDiagnosis, Store } from './store.js';

export interface Webhook {
  readonly form: WebhookForm;
  readonly url: URL;
}

/** `slack=URL`, `json=URL`, or a bare URL (json). Only http and https. */
export function parseWebhook(spec: string): Webhook {
  const m = /^(\w+)=(.*)$/s.exec(spec);
  const form = (m?.[1] ?? 'json') as WebhookForm;
  const raw = m === null ? spec : (m[2] as string);
  const bad = (why: string) =>
    new H13Error(
      'H13_ERR_INVALID_OPTION',
      `webhook ${JSON.stringify(raw.replace(/\/\/[^/]*@/, '//…@'))}: ${why}`,
      {
        field: 'webhooks',
      },
    );
  if (!WEBHOOK_FORMS.includes(form)) throw bad(`form must be one of ${WEBHOOK_FORMS.join(', ')}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('must be http or https');
  // fetch refuses a URL with credentials, and its error names the URL whole: every alert
  // would fail and write the password into the service log. Refused here, at start.
  if (url.username !== '' || url.password !== '')
    throw bad('must not carry a user or password (fetch refuses it); put a token in the path');
  return { form, url };
}

export interface AlertSettings {
  readonly webhooks: readonly Webhook[];
  /** 0: no error-rate alerts. */
  readonly errorRatePercent: number;
  readonly windowMs: number;
  readonly minRequests: number;
  readonly intervalMs: number;
  readonly retries: number;
  readonly retryBaseMs: number;
  readonly timeoutMs: number;
}

/** Deliveries waiting or in flight per webhook. */
const MAX_PENDING = 100;

interface Slot {
  lastSentMs: number;
  suppressed: number;
}

export class Alerts {
  private readonly slots = new Map<string, Slot>();
  private readonly firing = new Set<string>();
  private readonly pending = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly settings: AlertSettings,
    private readonly store: Store,
    private readonly log: (fields: Readonly<Record<string, LogfmtValue>>) => void,
  ) {}

  get enabled(): boolean {
    return this.settings.webhooks.length > 0;
  }

  /** Diagnoses just stored for the first time. */
  async onNew(app: string, added: readonly NewDiagnosis[]): Promise<void> {
    if (!this.enabled || added.length === 0) return;
    for (const d of added)
      if (d.newCauseRoute) this.raise({ kind: 'new-cause', app, diagnosis: d.json });
    const last = added.reduce<NewDiagnosis | undefined>(
      (m, d) =>
        isNoise(d.json.cause as CauseId) || (m !== undefined && m.micros > d.micros) ? m : d,
      undefined,
    );
    if (this.settings.errorRatePercent > 0 && last !== undefined) await this.checkRate(app, last);
  }

  private async checkRate(app: string, d: NewDiagnosis): Promise<void> {
    const toMinute = Math.floor(d.micros / 60e6);
    const fromMinute = toMinute - Math.max(Math.ceil(this.settings.windowMs / 60_000), 1) + 1;
    let requests = 0;
    let errors = 0;
    for (const r of await this.store.countsBetween(app, fromMinute, toMinute)) {
      if (r.kind === 'requests') requests += r.n;
      else if (r.kind === 'diagnosis' && !isNoise(r.cause as CauseId)) errors += r.n;
    }
    const over =
      requests >= this.settings.minRequests &&
      errors * 100 >= this.settings.errorRatePercent * requests;
    if (!over) {
      this.firing.delete(app);
      return;
    }
    if (this.firing.has(app)) return;
    this.firing.add(app);
    this.raise({
      kind: 'error-rate',
      app,
      errors,
      requests,
      thresholdPercent: this.settings.errorRatePercent,
      windowMs: this.settings.windowMs,
      until: d.json.time,
      diagnosis: d.json,
    });
  }

  private raise(alert: Alert): void {
    const now = Date.now();
    for (const hook of this.settings.webhooks) {
      const key = `${hook.url.href}\n${alert.app}`;
      const slot = this.slots.get(key) ?? { lastSentMs: -Infinity, suppressed: 0 };
      this.slots.set(key, slot);
      if (now - slot.lastSentMs < this.settings.intervalMs) {
        slot.suppressed++;
        this.log({
          at: 'info',
          event: 'alert-held',
          app: alert.app,
          kind: alert.kind,
          webhook: hook.url.host,
        });
        continue;
      }
      const pending = this.pending.get(hook.url.href) ?? 0;
      if (pending >= MAX_PENDING) {
        this.log({
          at: 'warn',
          event: 'alert-dropped',
          app: alert.app,
          webhook: hook.url.host,
          reason: 'queue full',
        });
        continue;
      }
      slot.lastSentMs = now;
      const body = alertBody(hook.form, alert, slot.suppressed);
      slot.suppressed = 0;
      this.pending.set(hook.url.href, pending + 1);
      this.attempt(hook, alert, body, 0);
    }
  }

  private attempt(hook: Webhook, alert: Alert, body: string, n: number): void {
    if (this.closed) return;
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), this.settings.timeoutMs);
    const done = () => this.pending.set(hook.url.href, (this.pending.get(hook.url.href) ?? 1) - 1);
    const fields = { app: alert.app, kind: alert.kind, webhook: hook.url.host, attempt: n + 1 };
    fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'h13-drain' },
      body,
      redirect: 'error',
      signal: abort.signal,
    })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => undefined);
        return res.status;
      })
      .catch((err: unknown) => (err as Error).message)
      .then((outcome) => {
        clearTimeout(timer);
        this.aborts.delete(abort);
        if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
          this.log({ at: 'info', event: 'alert-sent', ...fields, status: outcome });
          done();
          return;
        }
        const retryable = typeof outcome !== 'number' || outcome === 429 || outcome >= 500;
        if (!retryable || n >= this.settings.retries || this.closed) {
          this.log({ at: 'error', event: 'alert-failed', ...fields, outcome: String(outcome) });
          done();
          return;
        }
        this.log({ at: 'warn', event: 'alert-retry', ...fields, outcome: String(outcome) });
        const wait = setTimeout(
          () => {
            this.timers.delete(wait);
            this.attempt(hook, alert, body, n + 1);
          },
          this.settings.retryBaseMs * 2 ** n,
        );
        this.timers.add(wait);
      });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const a of this.aborts) a.abort();
    this.timers.clear();
  }
}
