import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { buildReport } from '../../src/analyze/report.js';
import { renderHtml } from '../../src/analyze/report-html.js';
import { analyzeText } from './analyze-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const XSS_PATH = '/x<script>window.pwned=1;console.log("pwned")</script>';
const XSS_ATTR = '/y"><img src=x onerror="window.pwned=2;console.log(\'pwned\')">';

const LOG = [
  '2026-03-02T12:00:00.000000+00:00 app[api]: Release v42 created by user <script>window.pwned=3</script>',
  '2026-03-02T12:00:04.000000+00:00 heroku[web.1]: Stopping all processes with SIGTERM',
  `2026-03-02T12:00:04.300000+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=POST path="${XSS_PATH.replace(/"/g, '\\"')}" host=h request_id=cccccccc-0000-4000-8000-000000000001 fwd="1.2.3.4" dyno=web.1 connect=0ms service=250ms status=503 bytes=0 protocol=https`,
  '2026-03-02T12:00:05.000000+00:00 app[web.2]: Error: <img src=x onerror=window.pwned=4>',
  '2026-03-02T12:00:05.000100+00:00 app[web.2]:     at h (/app/<svg onload=window.pwned=5>.js:1:1)',
  `2026-03-02T12:00:05.100000+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path="${XSS_ATTR.replace(/"/g, '\\"')}" host=h request_id=cccccccc-0000-4000-8000-000000000002 fwd="1.2.3.4" dyno=web.2 connect=0ms service=25ms status=503 bytes=0 protocol=https`,
  '2026-03-02T12:00:05.200000+00:00 heroku[web.2]: Process exited with status 1',
  '<script>window.pwned=6</script> unparsed',
].join('\n');

const dir = mkdtempSync(join(tmpdir(), 'h13-analyze-html-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('HTML report in headless Chromium', () => {
  it('renders the summary and the chart, and no logged markup runs', async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: install it with "apt-get install -y chromium" (CI does); this test does not skip`,
    );
    const { result, diagnoses } = analyzeText(`${LOG}\n`);
    assert.equal(diagnoses.length, 2);
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(buildReport(result)));

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage();
      const console: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => console.push(m.text()));
      page.on('pageerror', (e) => console.push(`pageerror ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      assert.equal(await page.title(), 'h13 analyze report');
      assert.match((await page.textContent('#summary')) ?? '', /2 errors/);
      assert.ok((await page.locator('#timeline rect.bar').count()) >= 1, 'the chart has bars');
      assert.ok(
        (await page.locator('#timeline g.marker').count()) >= 2,
        'release and SIGTERM markers',
      );
      const pwned = await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned);
      assert.equal(pwned, undefined, 'no script from the logs ran');
      assert.deepEqual(
        console.filter((m) => m.includes('pwned')),
        [],
      );
      assert.equal(await page.locator('img').count(), 0, 'no element made from log text');
      assert.equal(await page.locator('script').count(), 0);
      // The logged text is shown, as text.
      assert.ok(((await page.textContent('body')) ?? '').includes('<script>window.pwned=1;'));
      assert.deepEqual(
        requests.filter((u) => !u.startsWith('file:')),
        [],
        'no network fetches',
      );
    } finally {
      await browser.close();
    }
  });
});
