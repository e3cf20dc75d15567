/**
 * What the router writes itself: the error page served with router-generated errors (H10,
 * H12, H13, ...), the answers to requests refused before the app stage (400, 405, 408, 414,
 * 505; no router line) and `100 Continue`. Everything except the Date value is built once.
 *
 * Router 2.0's error page is 567 bytes (spec §4: its error lines show `bytes=567`). Heroku's
 * page text is not in the spec; this page says the same thing and is padded to exactly 567
 * bytes so `bytes=` matches. The legacy flavor serves the same page but logs the dyno's bytes.
 */

import type { RouterFlavor } from '../core/router-line.js';
import { httpDate } from './http-date.js';

export const ERROR_PAGE_BYTES = 567;

const PAGE_TOP =
  '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
  '<title>Application Error</title>\n' +
  '<style>body{margin:0;font-family:sans-serif;background:#f7f8fb}' +
  'main{max-width:36em;margin:4em auto;padding:0 1em;color:#3f3f44}</style>\n' +
  '</head>\n<body>\n<main>\n<h1>Application error</h1>\n' +
  '<p>An error occurred in the application and your page could not be served. ' +
  'If you are the application owner, check your logs for details.</p>\n</main>\n';
const PAGE_BOTTOM = '</body>\n</html>\n';

function buildPage(): Buffer {
  const fixed = PAGE_TOP.length + PAGE_BOTTOM.length + '<!--  -->\n'.length;
  const pad = ERROR_PAGE_BYTES - fixed;
  if (pad < 0) throw new Error(`error page text is ${-pad} bytes over ${ERROR_PAGE_BYTES}`);
  const page = `${PAGE_TOP}<!-- ${' '.repeat(pad)} -->\n${PAGE_BOTTOM}`;
  return Buffer.from(page, 'latin1');
}

export const ERROR_PAGE: Buffer = buildPage();

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  414: 'URI Too Long',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

export const SERVER_HEADER: Readonly<Record<RouterFlavor, string>> = {
  '2': 'Heroku',
  legacy: 'Cowboy',
};

export const VIA_VALUE: Readonly<Record<RouterFlavor, string>> = {
  '2': '1.1 heroku-router',
  legacy: '1.1 vegur',
};

/**
 * Network Error Logging headers Heroku's routers add to responses, in each router's shape as
 * seen in public response captures (legacy, `Via: 1.1 vegur`, January 2025; Router 2.0,
 * `Via: 2.0 heroku-router`, September 2026). The real endpoint is nel.heroku.com with
 * per-app signed parameters; h13 never points a browser at a third party, so the endpoint is
 * under `.invalid` (RFC 2606: never resolves), and the shape is what an app can test.
 */
const NEL_ENDPOINT = 'https://nel.h13.invalid/reports';
export const REPORTING_HEADERS: Readonly<Record<RouterFlavor, string>> = {
  '2':
    `Nel: {"report_to":"heroku-nel","response_headers":["Via"],"max_age":3600,"success_fraction":0.01,"failure_fraction":0.1}\r\n` +
    `Report-To: {"group":"heroku-nel","endpoints":[{"url":"${NEL_ENDPOINT}"}],"max_age":3600}\r\n` +
    `Reporting-Endpoints: heroku-nel="${NEL_ENDPOINT}"\r\n`,
  legacy:
    `Report-To: {"group":"heroku-nel","max_age":3600,"endpoints":[{"url":"${NEL_ENDPOINT}"}]}\r\n` +
    `Reporting-Endpoints: heroku-nel=${NEL_ENDPOINT}\r\n` +
    `Nel: {"report_to":"heroku-nel","max_age":3600,"success_fraction":0.005,"failure_fraction":0.05,"response_headers":["Via"]}\r\n`,
};

/** Error-page heads by status, without the Date line (added per second). */
const pageHeads = new Map<string, string>();

function pageHead(status: number, flavor: RouterFlavor): string {
  const key = `${flavor}:${status}`;
  let head = pageHeads.get(key);
  if (head === undefined) {
    head =
      `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
      'Connection: close\r\n' +
      'Cache-Control: no-cache, no-store\r\n' +
      'Content-Type: text/html; charset=utf-8\r\n' +
      `Content-Length: ${ERROR_PAGE_BYTES}\r\n` +
      `Server: ${SERVER_HEADER[flavor]}\r\n` +
      `Via: ${VIA_VALUE[flavor]}\r\n` +
      'Date: ';
    pageHeads.set(key, head);
  }
  return head;
}

/** The head of a router error response; the caller writes ERROR_PAGE after it (not for HEAD). */
export function errorPageHead(status: number, flavor: RouterFlavor): string {
  return `${pageHead(status, flavor)}${httpDate()}\r\n\r\n`;
}

/** The answer to a request refused before the app stage. */
export function rejectionResponse(status: number): string {
  const body = `${reasonPhrase(status)}\n`;
  return (
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${body.length}\r\n` +
    `Date: ${httpDate()}\r\n\r\n${body}`
  );
}

export const CONTINUE_RESPONSE = 'HTTP/1.1 100 Continue\r\n\r\n';
