/**
 * Alerts from a real drain process to a receiver on 127.0.0.1: delivered in both forms,
 * retried after a 500, rate-limited per app and webhook, escaped for Slack's mrkdwn, and a
 * cause already announced is not announced again after a restart.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { slackEscape, slackLiteral } from '../../src/drain/alert-format.js';
import { parseWebhook } from '../../src/drain/alerts.js';
import { until } from '../helpers/wait.js';
import { postFrames, startDrainProcess } from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-alerts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  readonly path: string;
  readonly body: string;
  readonly status: number;
}

/** Records every POST; `answer` decides each status (by path and how many came before). */
async function receiver(
  answer: (path: string, nth: number) => number = () => 200,
): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const path = req.url ?? '';
      const nth = seen.get(path) ?? 0;
      seen.set(path, nth + 1);
      const status = answer(path, nth);
      got.push({ path, body: Buffer.concat(parts).toString('utf8'), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

const at = (s: string) => `2026-03-02T12:00:${s}+00:00`;
const ok = (s: string, n: number) =>
  `${at(s)} heroku[router]: at=info method=GET path="/" host=h request_id=00000000-0000-4000-8000-${String(n).padStart(12, '0')} fwd="1.2.3.4" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`;
const h13 = (s: string, path: string, id: string) =>
  `${at(s)} heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="${path}" host=h request_id=${id} fwd="1.2.3.4" dyno=web.1 connect=0ms service=25ms status=503 bytes=0 protocol=https`;
/** An app crash with two requests in flight: two H13 diagnoses, each app-crash. */
const crash = (s: string, paths: readonly [string, string], ids: readonly [string, string]) => [
  `${at(`${s}.000000`)} app[web.1]: Error: boom`,
  h13(`${s}.100000`, paths[0], ids[0]),
  h13(`${s}.200000`, paths[1], ids[1]),
  `${at(`${s}.300000`)} heroku[web.1]: Process exited with status 1`,
];

interface AlertJson {
  kind: string;
  app: string;
  errors?: number;
  requests?: number;
  thresholdPercent?: number;
  diagnosis: { path: string };
}

const MARKUP =
  '/pay <!channel> <https://evil.example|click here> &amp; @here `*bold*` _it_ ~s~ ```x';

describe('alerts', () => {
  it('refuses webhooks that are not http(s) URLs, and escapes &, <, > for mrkdwn', () => {
    assert.throws(() => parseWebhook('slack=file:///etc/passwd'), /http or https/);
    assert.throws(() => parseWebhook('teams=https://x.example/'), /form must be/);
    assert.throws(() => parseWebhook('json=not a url'), /not a URL/);
    assert.equal(parseWebhook('http://127.0.0.1:1/x').form, 'json');
    assert.equal(slackEscape('<!channel> & <@U1>'), '&lt;!channel&gt; &amp; &lt;@U1&gt;');
    assert.equal(slackLiteral('a`*b*`\n> c'), '`a\u02cb*b*\u02cb &gt; c`');
    assert.equal(slackLiteral(''), '–');
  });

  it('delivers a new cause to both forms, retries after a 500, rate-limits, escapes', async () => {
    const rx = await receiver((path, nth) => (path === '/json' && nth === 0 ? 500 : 200));
    const d = await startDrainProcess(join(dir, 'a.db'), [
      '--window',
      '200ms',
      '--webhook',
      `slack=${rx.url}/slack`,
      '--webhook',
      `json=${rx.url}/json`,
      '--alert-interval',
      '1h',
    ]);
    try {
      const lines = crash('01', [MARKUP, '/orders/7'], ['req-a-1', 'req-a-2']);
      assert.equal((await postFrames(d.url, 'shop', lines, 'A-1')).status, 200);
      await until(
        () =>
          rx.got.filter((g) => g.path === '/slack').length >= 1 &&
          rx.got.filter((g) => g.path === '/json' && g.status === 200).length >= 1,
        60_000,
        'the slack alert and the retried json alert',
      );
      const slack = rx.got.filter((g) => g.path === '/slack');
      const text = (JSON.parse(slack[0]?.body ?? '{}') as { text: string }).text;
      assert.match(text, /new cause for `shop`: `H13`/);
      assert.match(text, /`app-crash`/);
      assert.ok(
        text.includes('&lt;!channel&gt; &lt;https://evil.example|click here&gt; &amp;amp;'),
        text,
      );
      assert.doesNotMatch(text, /[<>]/, 'no mrkdwn link or mention can come from a log');
      // The hostile path is one inline code span (no formatting inside), its backticks look-alikes.
      assert.ok(text.includes(' @here \u02cb*bold*\u02cb _it_ ~s~ \u02cb\u02cb\u02cbx'), text);
      // Outside the code spans, only h13's own words: no *, _, ~ or ` from a log.
      const outside = text
        .split('\n')
        .filter((l) => !l.startsWith('Fix: '))
        .join('\n')
        .replace(/`[^`\n]*`/g, '')
        .replace('*h13 drain*', '');
      assert.doesNotMatch(outside, /[*_~`]/, outside);
      const json = rx.got.filter((g) => g.path === '/json');
      assert.deepEqual(
        json.map((g) => g.status),
        [500, 200],
        'the same alert again after the 500',
      );
      assert.equal(json[0]?.body, json[1]?.body);
      const alert = JSON.parse(json[1]?.body ?? '{}');
      assert.equal(alert.schema, 'h13.drain.alert/1');
      assert.equal(alert.diagnosisSchema, 'h13.analyze.diagnosis/1');
      assert.equal(alert.kind, 'new-cause');
      assert.equal(alert.app, 'shop');
      assert.equal(alert.diagnosis.code, 'H13');
      assert.equal(alert.diagnosis.cause, 'app-crash');
      assert.equal(alert.diagnosis.path, MARKUP, 'the generic form carries the value as data');
      // Two new cause/route pairs for shop: the second is held by --alert-interval 1h.
      // Another app has its own allowance: its alert goes out.
      const other = crash('05', ['/x', '/y'], ['req-b-1', 'req-b-2']);
      assert.equal((await postFrames(d.url, 'shop-staging', other, 'B-1')).status, 200);
      await until(
        () => rx.got.some((g) => g.path === '/slack' && g.body.includes('shop-staging')),
        60_000,
        'the alert of the second app',
      );
      const forShop = rx.got.filter(
        (g) => g.path === '/slack' && /for `shop`/.test(JSON.parse(g.body).text),
      );
      assert.equal(forShop.length, 1, 'one alert per app and webhook per --alert-interval');
    } finally {
      d.proc.kill();
      rx.server.close();
    }
  });

  it('alerts on an error rate over the threshold, and not again for a known cause after a restart', async () => {
    const rx = await receiver();
    const db = join(dir, 'b.db');
    const args = [
      '--window',
      '200ms',
      '--webhook',
      `json=${rx.url}/hook`,
      '--alert-interval',
      '0',
      '--alert-error-rate',
      '25',
      '--alert-min-requests',
      '4',
    ];
    let d = await startDrainProcess(db, args);
    const bodies = () => rx.got.map((g) => JSON.parse(g.body) as AlertJson);
    try {
      const lines = [
        ok('00.100000', 1),
        ok('00.200000', 2),
        ok('00.300000', 3),
        ...crash('02', ['/checkout', '/cart'], ['req-c-1', 'req-c-2']),
      ];
      assert.equal((await postFrames(d.url, 'api', lines, 'C-1')).status, 200);
      await until(
        () => bodies().some((b) => b.kind === 'error-rate'),
        60_000,
        'the error-rate alert',
      );
      const rate = bodies().find((b) => b.kind === 'error-rate');
      assert.equal(rate?.app, 'api');
      assert.equal(rate?.errors, 2);
      assert.equal(rate?.requests, 5, 'three ok lines and two H13 router lines');
      assert.equal(rate?.thresholdPercent, 25);
      await until(
        () => bodies().filter((b) => b.kind === 'new-cause').length === 2,
        60_000,
        'a new-cause alert for each route',
      );
      d.proc.kill();
      await d.proc.exited();
      d = await startDrainProcess(db, args);
      const before = rx.got.length;
      // /checkout with app-crash is known (kept in the database); /refund is new.
      const again = crash('30', ['/checkout', '/refund'], ['req-d-1', 'req-d-2']);
      assert.equal((await postFrames(d.url, 'api', again, 'D-1')).status, 200);
      await until(
        () => bodies().some((b) => b.kind === 'new-cause' && b.diagnosis.path === '/refund'),
        60_000,
        'the alert of the new route',
      );
      const after = bodies().slice(before);
      assert.equal(
        after.filter((b) => b.kind === 'new-cause' && b.diagnosis.path === '/checkout').length,
        0,
        'a cause/route pair announced before the restart is not announced again',
      );
    } finally {
      d.proc.kill();
      rx.server.close();
    }
  });
});
