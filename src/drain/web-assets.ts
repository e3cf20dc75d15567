/**
 * The two files every page loads: the stylesheet (the HTML report's own, src/core/report-style.ts,
 * plus what only the drain's pages need) and the page script. They are served as files so the
 * Content-Security-Policy can forbid inline script and style altogether.
 *
 * The script only follows the live events: each new diagnosis arrives as JSON and is added to
 * the page with createElement and textContent (never innerHTML), and its links are paths
 * built with encodeURIComponent, so nothing a log carries can become markup or a URL scheme.
 * It is plain ES2017 kept here as text: the project's TypeScript has no DOM types, and the
 * browser runs exactly what is below.
 */

import { REPORT_CSS } from '../core/report-style.js';

export const WEB_CSS = `${REPORT_CSS}nav.top{display:flex;gap:1em;align-items:center;border-bottom:1px solid #ddd;padding-bottom:.5em;flex-wrap:wrap}
form.inline{display:inline}form.right{margin-left:auto}
.live{font-size:12px;border-radius:8px;padding:0 8px;background:#eee}.live[data-state="on"]{background:#d8f0dc;color:#064}
.error{color:#b00}.login{max-width:24em}.login label{display:block}.login input{width:100%}
svg.legend{border:0;height:18px}.details{font-size:12px;font-weight:normal}tr.fresh{background:#fff6d6}
#fields th{width:10em;color:#555;font-weight:normal}
`;

export const WEB_JS = `'use strict';
(function () {
  var body = document.body;
  var live = document.getElementById('live');
  if (live === null || typeof EventSource === 'undefined') return;
  var pageKind = body.getAttribute('data-page');
  var app = body.getAttribute('data-app') || '';
  var appPath = function (name) { return '/apps/' + encodeURIComponent(name); };
  var setState = function (s) { live.setAttribute('data-state', s); live.textContent = 'live: ' + s; };
  var cell = function (text) { var td = document.createElement('td'); td.textContent = text; return td; };
  var link = function (href, text) { var a = document.createElement('a'); a.href = href; a.textContent = text; return a; };
  var clock = function (iso) { return typeof iso === 'string' ? iso.slice(0, 19).replace('T', ' ') : '?'; };
  var source = new EventSource('/events' + (app !== '' && pageKind === 'app' ? '?app=' + encodeURIComponent(app) : ''));
  source.onopen = function () { setState('on'); };
  source.onerror = function () { setState('reconnecting'); };
  source.addEventListener('diagnosis', function (ev) {
    var d;
    try { d = JSON.parse(ev.data); } catch (err) { return; }
    if (d === null || typeof d !== 'object' || typeof d.app !== 'string' || typeof d.key !== 'string') return;
    if (pageKind === 'apps') addToApps(d);
    else if (pageKind === 'app' && d.app === app) addToApp(d);
  });
  function addToApps(d) {
    var rows = document.querySelectorAll('#apps tbody tr');
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute('data-app') !== d.app) continue;
      var seen = rows[i].children[1];
      if (seen !== undefined) seen.textContent = clock(new Date().toISOString());
      var n = rows[i].querySelector('td.diagnoses');
      if (n !== null) n.textContent = String(Number(n.textContent) + 1);
      rows[i].className = 'fresh';
      return;
    }
    var table = document.querySelector('#apps tbody');
    if (table === null) return;
    var tr = document.createElement('tr');
    tr.setAttribute('data-app', d.app);
    tr.className = 'fresh';
    var name = document.createElement('td');
    name.appendChild(link(appPath(d.app), d.app));
    tr.appendChild(name);
    tr.appendChild(cell(clock(new Date().toISOString())));
    tr.appendChild(cell(''));
    var count = cell('1');
    count.className = 'num diagnoses';
    tr.appendChild(count);
    tr.appendChild(cell(d.code));
    tr.appendChild(cell(''));
    tr.appendChild(cell(''));
    table.insertBefore(tr, table.firstChild);
  }
  function addToApp(d) {
    var tbody = document.querySelector('#latest tbody');
    if (tbody === null) return;
    var none = document.getElementById('no-diagnoses');
    if (none !== null) none.remove();
    var tr = document.createElement('tr');
    tr.setAttribute('data-key', d.key);
    tr.className = 'fresh';
    tr.appendChild(cell(clock(d.time)));
    tr.appendChild(cell(String(d.code)));
    tr.appendChild(cell(String(d.cause)));
    var req = cell(String(d.method) + ' ');
    var code = document.createElement('code');
    code.textContent = String(d.path);
    req.appendChild(code);
    tr.appendChild(req);
    var rid = document.createElement('td');
    if (typeof d.requestId === 'string') rid.appendChild(link('/requests?id=' + encodeURIComponent(d.requestId), d.requestId));
    tr.appendChild(rid);
    var more = document.createElement('td');
    more.appendChild(link(appPath(d.app) + '/diagnoses/' + encodeURIComponent(d.key), 'details'));
    tr.appendChild(more);
    tbody.insertBefore(tr, tbody.firstChild);
  }
})();
`;
