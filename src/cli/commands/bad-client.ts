import { escapeBytes, exchange } from '../../http/raw-exchange.js';
import { defineCommand } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { parseTarget } from '../url-target.js';

/** The seed's bad-client.js: the request line Node's parser refuses. */
export const SEED_BAD_REQUEST = 'GET ?invalid=request HTTP/1.1';

export const badClientCommand = defineCommand({
  name: 'bad-client',
  summary: 'Send a malformed request on a raw socket and show what came back.',
  usage: 'bad-client [options] URL',
  details:
    `By default sends "${SEED_BAD_REQUEST}" with a Host header, as the seed's bad-client.js did.\n` +
    '--raw sends other bytes; \\r, \\n, \\t, \\\\ and \\xHH escapes are understood.\n' +
    'Exits 1 when the server closed the connection without a response (an H13 behind Heroku).',
  options: {
    raw: { type: 'string', description: 'bytes to send instead, with escapes', valueName: 'bytes' },
    timeout: { type: 'duration', description: 'how long to wait for an answer', default: 5000 },
  },
  args: { min: 1, max: 1 },
  run: async ({ options, args }) => {
    const target = parseTarget(args[0] as string);
    const bytes =
      options.raw === undefined
        ? Buffer.from(`${SEED_BAD_REQUEST}\r\nHost: ${target.hostHeader}\r\n\r\n`, 'latin1')
        : unescapeBytes(options.raw);
    console.log(`> ${escapeBytes(bytes, 400)}`);
    const r = await exchange({
      host: target.host,
      port: target.port,
      bytes,
      timeoutMs: options.timeout,
    });
    if (r.ending === 'refused') {
      console.log(`connection refused: nothing listens on ${target.host}:${target.port}`);
      return EXIT.FAILURE;
    }
    if (r.head !== null) {
      console.log(`< HTTP/${r.head.version} ${r.head.status} ${escapeBytes(r.head.reason)}`);
      for (const [name, value] of r.head.headers)
        console.log(`< ${escapeBytes(name)}: ${escapeBytes(value)}`);
      if (r.body.length > 0) console.log(`<\n${escapeBytes(r.body, 400)}`);
    }
    switch (r.ending) {
      case 'answered':
        console.log(`answered ${r.status} (${r.bytesReceived} bytes)`);
        return EXIT.OK;
      case 'silent':
        console.log("connection closed without a response (this is an H13 behind Heroku's router)");
        return EXIT.FOUND;
      case 'reset':
        console.log("connection reset without a response (this is an H13 behind Heroku's router)");
        return EXIT.FOUND;
      case 'truncated':
        if (r.malformed !== null) {
          console.log(
            `the response is not valid HTTP (${r.malformed}): an H17 behind Heroku's router`,
          );
          return EXIT.FOUND;
        }
        console.log(
          `connection closed after ${r.bytesReceived} bytes of an incomplete response (an H18 behind Heroku's router)`,
        );
        return EXIT.FOUND;
      default:
        console.log(
          r.bytesReceived > 0
            ? `the response started but did not finish within ${options.timeout} ms (an H15 behind Heroku once idle 55 s)`
            : `no response within ${options.timeout} ms; the connection is still open (an H12 behind Heroku after 30 s)`,
        );
        return EXIT.FOUND;
    }
  },
});

/** `\r\n`, `\t`, `\\`, `\xHH` escapes to bytes; everything else as latin1. */
export function unescapeBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1] as string;
      if (next === 'r' || next === 'n' || next === 't' || next === '\\' || next === '0') {
        out.push({ r: 13, n: 10, t: 9, '\\': 92, '0': 0 }[next]);
        i++;
        continue;
      }
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
        out.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
    }
    out.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}
