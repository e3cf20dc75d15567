/**
 * Server-Sent Events for the web page: each open page subscribes once (`GET /events`) and is
 * sent every new diagnosis. Publishing never waits on a subscriber: a frame is handed to the
 * socket with `res.write`, and a subscriber whose unsent bytes pass `maxBufferedBytes` (a
 * stalled or slow reader) is disconnected; its browser reconnects on its own (EventSource
 * does) and reloads what it missed. So ingest never blocks, and the memory a subscriber can
 * hold is bounded. The number of subscribers is bounded too: past `maxSubscribers`, 503.
 *
 * A stream opened with a session cookie belongs to that session: it is ended when the session
 * is (a logout on this or another process: `endSession`) and when the cookie expires (checked
 * at each heartbeat). The browser's EventSource then reconnects, is refused, and stops.
 */

import type { ServerResponse } from 'node:http';
import { safeJson } from '../core/safe-json.js';

export interface LiveOptions {
  readonly maxSubscribers: number;
  readonly maxBufferedBytes: number;
  /** A comment line this often keeps proxies (Heroku's router: 55 s idle) from closing it. */
  readonly heartbeatMs: number;
}

interface Subscriber {
  readonly res: ServerResponse;
  /** Only events of this app; null: every app. */
  readonly app: string | null;
  /** The login session the stream was opened with; null for HTTP Basic. */
  readonly session: { readonly nonce: string; readonly expiresMs: number } | null;
}

export class LiveEvents {
  private readonly subs = new Set<Subscriber>();
  private readonly heartbeat: NodeJS.Timeout;
  /** Subscribers disconnected for reading too slowly (shown in the service log). */
  dropped = 0;

  constructor(
    private readonly options: LiveOptions,
    private readonly onDrop: (app: string | null) => void = () => {},
  ) {
    this.heartbeat = setInterval(() => {
      this.endExpired(Date.now());
      this.send(null, ': keep-alive\n\n');
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.subs.size;
  }

  /** Takes over the response as an event stream; false when full (the caller answers 503). */
  subscribe(
    res: ServerResponse,
    app: string | null,
    session: Subscriber['session'] = null,
  ): boolean {
    if (this.subs.size >= this.options.maxSubscribers) return false;
    const sub: Subscriber = { res, app, session };
    this.subs.add(sub);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    // Reconnect after 2 s if the stream ends; the first bytes tell the page it is live.
    res.write('retry: 2000\n: connected\n\n');
    res.on('close', () => this.subs.delete(sub));
    return true;
  }

  /** One event to every subscriber of `app` (and of every app). JSON data cannot hold a newline. */
  publish(app: string, event: string, data: unknown): void {
    this.send(app, `event: ${event}\ndata: ${safeJson(data)}\n\n`);
  }

  private send(app: string | null, frame: string): void {
    for (const sub of this.subs) {
      if (app !== null && sub.app !== null && sub.app !== app) continue;
      if (sub.res.writableLength > this.options.maxBufferedBytes) {
        this.subs.delete(sub);
        this.dropped++;
        sub.res.destroy();
        this.onDrop(sub.app);
        continue;
      }
      sub.res.write(frame);
    }
  }

  /** The sessions open streams belong to. */
  sessions(): Set<string> {
    const out = new Set<string>();
    for (const sub of this.subs) if (sub.session !== null) out.add(sub.session.nonce);
    return out;
  }

  /** Ends every stream of a session ended by a logout; how many there were. */
  endSession(nonce: string): number {
    let ended = 0;
    for (const sub of this.subs)
      if (sub.session?.nonce === nonce) {
        this.subs.delete(sub);
        sub.res.end();
        ended++;
      }
    return ended;
  }

  private endExpired(nowMs: number): void {
    for (const sub of this.subs)
      if (sub.session !== null && sub.session.expiresMs <= nowMs) {
        this.subs.delete(sub);
        sub.res.end();
      }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const sub of this.subs) sub.res.end();
    this.subs.clear();
  }
}
