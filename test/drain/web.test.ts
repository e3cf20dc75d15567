/**
 * The drain's web page in Debian's Chromium (playwright-core): login required, every page
 * drawn with logged markup shown as text and never run, links that stay on the site, live
 * updates without a reload. Screenshots of each page go to build/test-output/drain/.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { until } from '../helpers/wait.js';
import {
  type DrainProcess,
  diagnosesOf,
  PASSWORD,
  postFrames,
  send,
  startDrainProcess,
} from './drain-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** build/test-output/drain, next to the compiled tests (build/test/drain/..). */
const SHOTS = fileURLToPath(new URL('../../test-output/drain/', import.meta.url));

const XSS_PATH = '/x<script>window.pwned=1;console.log("pwned")</script>';
const XSS_ATTR = '/y"><img src=x onerror="window.pwned=2;console.log(\'pwned\')">';
const XSS_ID = '<script>window.pwned=3</script>';
const JS_ID = 'javascript:window.pwned=4';
const router = (time: string, method: string, path: string, id: string, dyno = 'web.1') =>
  `2026-03-02T12:00:${time}+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=${method} path="${path.replace(/"/g, '\\"')}" host=h request_id=${id} fwd="1.2.3.4" dyno=${dyno} connect=0ms service=250ms status=503 bytes=0 protocol=https`;
const ok = (time: string, id: string) =>
  `2026-03-02T12:00:${time}+00:00 heroku[router]: at=info method=GET path="/" host=h request_id=${id} fwd="1.2.3.4" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`;

const LINES = [
  ok('00.100000', 'aaaaaaaa-0000-4000-8000-000000000001'),
  ok('00.200000', 'aaaaaaaa-0000-4000-8000-000000000002'),
  ok('00.300000', 'aaaaaaaa-0000-4000-8000-000000000003'),
  '2026-03-02T12:00:03.000000+00:00 app[web.1]: Error: <img src=x onerror=window.pwned=5> <script>window.pwned=6</script>',
  '2026-03-02T12:00:03.000100+00:00 app[web.1]:     at h (/app/<svg onload=window.pwned=7>.js:1:1)',
  router('03.100000', 'POST', XSS_PATH, XSS_ID),
  router('03.200000', 'GET', XSS_ATTR, JS_ID),
  router('03.300000', 'GET', 'javascript:window.pwned=8', 'cccccccc-0000-4000-8000-000000000003'),
  '2026-03-02T12:00:03.400000+00:00 heroku[web.1]: Process exited with status 1',
  '2026-03-02T12:00:04.000000+00:00 heroku[web.1]: Error R14 (Memory quota exceeded) <script>window.pwned=9</script>',
];

const dir = mkdtempSync(join(tmpdir(), 'h13-drain-web-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Watch {
  readonly messages: string[];
  readonly dialogs: string[];
}

function watch(page: Page): Watch {
  const w: Watch = { messages: [], dialogs: [] };
  page.on('console', (m) => w.messages.push(m.text()));
  page.on('pageerror', (e) => w.messages.push(`pageerror ${e.message}`));
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  return w;
}

/** Nothing logged ran, made an element, or became a link off the site. */
async function assertInert(page: Page, w: Watch, where: string): Promise<void> {
  const pwned = await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned);
  assert.equal(pwned, undefined, `${where}: no script from the logs ran`);
  assert.deepEqual(
    w.messages.filter((m) => m.includes('pwned')),
    [],
    where,
  );
  assert.deepEqual(w.dialogs, [], where);
  // The page's own parts are allowed by its CSP: no violation reported, the stylesheet applied.
  assert.deepEqual(
    w.messages.filter((m) => /Content Security Policy/i.test(m)),
    [],
    `${where}: nothing of the page itself was blocked`,
  );
  assert.equal(
    await page.evaluate(() => {
      const g = globalThis as unknown as {
        getComputedStyle(el: unknown): { maxWidth: string };
        document: { body: unknown };
      };
      return g.getComputedStyle(g.document.body).maxWidth;
    }),
    '1100px',
    `${where}: the report's stylesheet is applied`,
  );
  assert.equal(await page.locator('img').count(), 0, `${where}: no element made from log text`);
  assert.equal(await page.locator('svg[onload], [onerror]').count(), 0, where);
  const scripts = await page
    .locator('script')
    .evaluateAll((els) =>
      els.map((el) => (el as unknown as { src: string; textContent: string }).src || 'inline'),
    );
  assert.ok(
    scripts.every((s) => s.endsWith('/web/app.js')),
    `${where}: the page's own script only: ${scripts.join(' ')}`,
  );
  const protocols = await page
    .locator('a[href]')
    .evaluateAll((els) => els.map((a) => (a as unknown as { protocol: string }).protocol));
  assert.ok(
    protocols.every((p) => p === 'http:'),
    `${where}: every link stays on the site: ${protocols.join(' ')}`,
  );
}

async function shot(page: Page, name: string): Promise<void> {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
}

describe('h13 drain web page in headless Chromium', () => {
  let d: DrainProcess;
  let browser: Browser;
  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: install it with "apt-get install -y chromium"; this test does not skip`,
    );
    mkdirSync(SHOTS, { recursive: true });
    d = await startDrainProcess(join(dir, 'web.db'), ['--window', '200ms']);
    const r = await postFrames(d.url, 'shop', LINES, 'WEB-0001');
    assert.equal(r.status, 200, r.text);
    await until(
      // Three H13s and the R14 (platform errors are diagnoses of their own).
      async () => (await diagnosesOf(d.url, 'shop')).length >= 4,
      30_000,
      'diagnoses of shop',
    );
    // launch() gives each run a fresh temporary profile of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    d?.proc.kill();
  });

  it('refuses every page and the event stream without a login, and cross-site logins', async () => {
    for (const path of ['/', '/apps/shop', '/requests?id=x', '/events']) {
      const r = await send(d.url, { path, auth: null });
      assert.equal(r.status, 303, path);
      assert.match(String(r.headers.location), /^\/login\?next=/, path);
      assert.doesNotMatch(r.text, /H13|diagnos|crash/, `${path}: no data before login`);
    }
    assert.equal((await send(d.url, { path: '/api/apps', auth: null })).status, 401);
    // A link followed from another site comes without the SameSite=Strict cookie: the page
    // loads itself again from this site (a meta refresh) and shows no data.
    const fromChat = await send(d.url, {
      path: '/apps/shop',
      auth: null,
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(fromChat.status, 200);
    assert.match(fromChat.text, /<meta http-equiv="refresh" content="0;url=\/apps\/shop">/);
    assert.doesNotMatch(fromChat.text, /H13|diagnos/);
    // With the credential (Basic, as curl sends it): an unknown app or diagnosis is a 404 page.
    for (const path of ['/apps/nope', '/apps/shop/diagnoses/nope', '/apps/%3Cb%3E']) {
      const r = await send(d.url, { path });
      assert.equal(r.status, 404, path);
      assert.match(r.text, /<h1>Not found<\/h1>/, path);
    }
    const wrong = `Basic ${Buffer.from('h13:nope').toString('base64')}`;
    assert.equal((await send(d.url, { path: '/', auth: wrong })).status, 303);
    const form = `user=h13&password=${encodeURIComponent(PASSWORD)}`;
    const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };
    const cross = await send(d.url, {
      path: '/login',
      auth: null,
      headers: { ...urlencoded, origin: 'http://evil.example' },
      body: form,
    });
    assert.equal(cross.status, 403, 'a login posted from another site');
    assert.equal(cross.headers['set-cookie'], undefined);
    const bare = await send(d.url, { path: '/login', auth: null, headers: urlencoded, body: form });
    assert.equal(bare.status, 403, 'a login with neither Origin nor Sec-Fetch-Site');
    const same = await send(d.url, {
      path: '/login',
      auth: null,
      headers: { ...urlencoded, origin: d.url },
      body: `${form}&next=//evil.example/x`,
    });
    assert.equal(same.status, 303);
    assert.equal(same.headers.location, '/', 'next never leaves the site');
    const cookie = String(same.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const value = /h13_session=([^;]+)/.exec(cookie)?.[1] ?? '';
    const page = await send(d.url, {
      path: '/',
      auth: null,
      headers: { cookie: `h13_session=${value}` },
    });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    const forged = `${value.slice(0, -2)}AA`;
    const bad = await send(d.url, {
      path: '/',
      auth: null,
      headers: { cookie: `h13_session=${forged}` },
    });
    assert.equal(bad.status, 303, 'a forged session is no session');
    const out = await send(d.url, {
      path: '/logout',
      method: 'POST',
      auth: null,
      headers: { cookie: `h13_session=${value}`, origin: 'http://evil.example' },
    });
    assert.equal(out.status, 403, 'logout from another site');
  });

  it('an app name that is markup is refused at ingest', async () => {
    const r = await postFrames(
      d.url,
      '%3Cimg%20src%3Dx%20onerror%3Dwindow.pwned%3D1%3E',
      LINES.slice(0, 1),
      'WEB-X',
    );
    assert.equal(r.status, 400);
    const apps = await send(d.url, { path: '/api/apps' });
    assert.doesNotMatch(apps.text, /onerror/);
  });

  it('logs in, shows every page with logged markup as text, follows new diagnoses live', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const w = watch(page);
    const offsite: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(d.url)) offsite.push(r.url());
    });

    await page.goto(`${d.url}/apps/shop`);
    assert.match(page.url(), /\/login\?next=%2Fapps%2Fshop$/);
    await shot(page, 'login');
    await page.fill('input[name=user]', 'h13');
    await page.fill('input[name=password]', 'wrong');
    await Promise.all([page.waitForURL(/\/login$/), page.click('button[type=submit]')]);
    assert.equal(await page.locator('#login-error').count(), 1, await page.content());
    await page.fill('input[name=user]', 'h13');
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(/\/apps\/shop$/), page.click('form.login button')]);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'h13_session');
    assert.equal(session?.httpOnly, true);
    assert.equal(session?.sameSite, 'Strict');

    // The app page: chart, rankings, latest diagnoses with evidence.
    assert.equal(await page.title(), 'shop — h13 drain');
    assert.ok((await page.locator('#timeline rect.bar.error').count()) >= 1, 'H13 bars');
    assert.ok((await page.locator('#timeline rect.bar.platform').count()) >= 1, 'R14 bar');
    assert.equal(await page.locator('#timeline polyline#rate').count(), 1, 'the error-rate line');
    assert.match((await page.textContent('#summary')) ?? '', /error rate/);
    assert.ok((await page.locator('#causes tbody tr').count()) >= 1);
    assert.ok((await page.locator('#routes tbody tr').count()) >= 1);
    assert.equal(await page.locator('#latest tbody tr').count(), 4);
    const text = (await page.textContent('body')) ?? '';
    for (const logged of [
      XSS_PATH,
      XSS_ATTR,
      XSS_ID,
      '<svg onload=window.pwned=7>',
      'window.pwned=9',
    ])
      assert.ok(text.includes(logged), `shown as text: ${logged}`);
    await page.waitForSelector('#live[data-state="on"]', { timeout: 30_000 });
    await assertInert(page, w, 'app page');
    await shot(page, 'app');

    // Live: a new H13 posted to /drain/shop appears without a reload.
    await page.evaluate(() => {
      (globalThis as { stillHere?: number }).stillHere = 1;
    });
    const liveId = 'dddddddd-0000-4000-8000-00000000live';
    const r = await postFrames(
      d.url,
      'shop',
      [
        '2026-03-02T12:01:00.000000+00:00 app[web.1]: <b>live</b> Error: gone',
        router('00.100000', 'GET', '/live"><img src=x onerror=window.pwned=10>', liveId).replace(
          '12:00:00.1',
          '12:01:00.1',
        ),
        '2026-03-02T12:01:00.200000+00:00 heroku[web.1]: Process exited with status 1',
      ],
      'WEB-0002',
    );
    assert.equal(r.status, 200, r.text);
    await page.waitForFunction(
      (id) =>
        Array.from(
          (
            globalThis as unknown as {
              document: { querySelectorAll(s: string): ArrayLike<{ textContent: string }> };
            }
          ).document.querySelectorAll('#latest tbody tr'),
        ).some((tr) => tr.textContent.includes(id)),
      liveId,
      { timeout: 60_000 },
    );
    assert.equal(
      await page.evaluate(() => (globalThis as { stillHere?: number }).stillHere),
      1,
      'the page was not reloaded',
    );
    assert.equal(await page.locator('#latest tbody tr').count(), 5);
    await assertInert(page, w, 'app page after a live update');
    await shot(page, 'app-live');

    // The diagnosis page, through its link.
    await Promise.all([
      page.waitForURL(/\/apps\/shop\/diagnoses\//),
      page.locator('#evidence a.details').first().click(),
    ]);
    assert.match((await page.textContent('h1')) ?? '', /\b(H13|R14)\b/);
    assert.match((await page.textContent('body')) ?? '', /Fix:/);
    await assertInert(page, w, 'diagnosis page');
    await shot(page, 'diagnosis');

    // The request search, by the id that is markup.
    await page.fill('nav input[name=id]', 'not a valid id <b>');
    await Promise.all([page.waitForURL(/\/requests\?id=/), page.click('nav button[type=submit]')]);
    assert.match((await page.textContent('.error')) ?? '', /request id is/);
    await page.goto(`${d.url}/requests?id=cccccccc-0000-4000-8000-000000000003`);
    assert.match((await page.textContent('#found')) ?? '', /^1 diagnosis, [1-9]\d* lines?/);
    assert.ok(((await page.textContent('#lines')) ?? '').includes('javascript:window.pwned=8'));
    await assertInert(page, w, 'request page');
    await shot(page, 'request');

    // The apps list.
    await page.goto(`${d.url}/`);
    assert.equal(await page.locator('#apps tbody tr[data-app="shop"]').count(), 1);
    assert.match((await page.textContent('#apps tbody tr td.diagnoses')) ?? '', /^5$/);
    // Live on the apps page too: an app that was not there gets its row.
    await page.waitForSelector('#live[data-state="on"]', { timeout: 30_000 });
    await page.evaluate(() => {
      (globalThis as { stillHere?: number }).stillHere = 2;
    });
    const next = await postFrames(
      d.url,
      'shop-live',
      [
        '2026-03-02T12:02:00.000000+00:00 app[web.1]: Error: boom',
        router('00.100000', 'GET', '/new', 'eeeeeeee-0000-4000-8000-000000000001').replace(
          '12:00:00.1',
          '12:02:00.1',
        ),
        '2026-03-02T12:02:00.200000+00:00 heroku[web.1]: Process exited with status 1',
      ],
      'WEB-0003',
    );
    assert.equal(next.status, 200, next.text);
    await page
      .locator('#apps tbody tr[data-app="shop-live"] td.diagnoses')
      .waitFor({ timeout: 60_000 });
    assert.equal(
      await page.evaluate(() => (globalThis as { stillHere?: number }).stillHere),
      2,
      'the apps page was updated in place, not reloaded',
    );
    await assertInert(page, w, 'apps page');
    await shot(page, 'apps');

    // Log out: the page is gone again.
    await Promise.all([page.waitForURL(/\/login$/), page.click('nav form.right button')]);
    await page.goto(`${d.url}/`);
    assert.match(page.url(), /\/login\?next=/);
    const copied = await send(d.url, {
      path: '/',
      auth: null,
      headers: { cookie: `h13_session=${session?.value}` },
    });
    assert.equal(copied.status, 303, 'a copy of the cookie ends with the logout too');
    assert.deepEqual(offsite, [], 'no request left the drain');
    await context.close();
  });
});
