/**
 * Several drain processes on one PostgreSQL (issue 17 item 4): ingest only stores lines, and
 * each app is analysed by the one process holding that app's advisory lock
 * (`pg_try_advisory_lock`, held by a session of its own). That process reads the app's lines
 * in per-app sequence order, which is commit order (pg-ingest.ts), feeds its AppAnalyses and
 * stores how far it read (`analysis_cursors`). When it dies its session ends, the lock is
 * free, and the next process to look takes the app over: it feeds again the lines before the
 * cursor that arrived within the replay span (the errors the dead one had not decided, with
 * their evidence), then reads on. Diagnoses are keyed by their router line (diagnosisKey), so
 * what both decide is stored once.
 *
 * The same session listens for the live events of other processes (pg-live.ts).
 *
 * Wake-ups: NOTIFY on `h13_lines` at each ingest commit, and a bounded poll in case a
 * notification is missed (a reconnect) or a lock was freed with no new line.
 *
 * Lines this process stored itself are not read back: the store hands each committed batch
 * over with its first sequence number (PgStore.onCommitted), and while this process holds the
 * app, a batch that starts right after the lines read so far is fed from memory. Only the
 * gaps (lines other processes stored, or batches committed before the lock was taken) are
 * read from the database, and the order fed is still the sequence order. Reading every line
 * back cost the server and this process CPU per line on top of the insert (issue 17).
 */

import { createHash } from 'node:crypto';
import pg from 'pg';
import type { LogfmtValue } from '../core/logfmt.js';
import type { AnalysisFeed, AppAnalyses } from './app-analyses.js';
import { LINES_CHANNEL } from './pg-ingest.js';
import { decodeLive, LIVE_CHANNEL, type LiveMessage } from './pg-live.js';
import { LOCK_SPACE } from './pg-migrate.js';
import type { PgStore } from './pg-store.js';

/**
 * Lines read and fed per step while catching up. The analyzer runs on the event loop that also
 * answers ingest: small steps, with a turn of the loop between them, keep a backlog from
 * delaying acknowledgements.
 */
const READ_BATCH = 500;
const RECONNECT_MS = 1000;
/**
 * Committed lines kept for the apps this process holds until the analysis reaches them; past
 * this, batches are not kept and the analysis reads them from the database instead.
 */
const KEPT_LINES_MAX = 100_000;

export interface PgAnalysisOptions {
  readonly pollMs: number;
  /** How far before the cursor a takeover feeds lines again (arrival time). */
  readonly replayMs: number;
  readonly replayMaxLines: number;
  readonly log: (fields: Readonly<Record<string, LogfmtValue>>) => void;
  /** A live event another process published (pg-live.ts). */
  readonly onLive?: (message: LiveMessage) => void;
}

/** The second key of an app's advisory lock: 32 bits of its name's SHA-256 (a collision only means one process analyses both apps). */
export function appLockKey(app: string): number {
  return createHash('sha256').update(app).digest().readInt32BE(0);
}

interface Held {
  seq: number;
  receivedMs: number;
  /** Batches this process committed for the app, not fed yet, by their first sequence number. */
  readonly kept: Map<number, { receivedMs: number; lines: readonly string[] }>;
}

export class PgAnalysis implements AnalysisFeed {
  private session: pg.Client | null = null;
  private readonly held = new Map<string, Held>();
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;

  private keptLines = 0;
  /** Lines fed from memory and read from the database: how well the memory path works. */
  readonly fed = { kept: 0, read: 0 };

  constructor(
    private readonly store: PgStore,
    private readonly analyses: AppAnalyses,
    private readonly options: PgAnalysisOptions,
  ) {
    store.onCommitted = (app, firstSeq, receivedMs, lines) => {
      const at = this.held.get(app);
      if (at === undefined || firstSeq <= at.seq || lines.length === 0) return;
      if (this.keptLines + lines.length > KEPT_LINES_MAX) return;
      at.kept.set(firstSeq, { receivedMs, lines });
      this.keptLines += lines.length;
    };
  }

  async start(): Promise<void> {
    await this.connect();
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    await this.wakeAndWait();
  }

  /** Called by ingest with lines it stored: this process may hold their app. */
  feed(_app: string, _lines: readonly string[]): void {
    this.wake();
  }

  /** Apps this process analyses now. */
  heldApps(): string[] {
    return [...this.held.keys()].sort();
  }

  wake(): void {
    void this.wakeAndWait();
  }

  /** Runs a round now, or once more after the one running; resolves when done. */
  async wakeAndWait(): Promise<void> {
    if (this.closed) return;
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.round();
        } catch (err) {
          this.options.log({
            at: 'error',
            event: 'analysis-round-failed',
            error: (err as Error).message,
          });
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async connect(): Promise<void> {
    const session = new pg.Client(this.store.clientConfig);
    session.on('notification', (n) => {
      // This process's own commits wake the analysis through feed(), after the store has
      // handed their lines over; its own NOTIFY could arrive first and read them back.
      if (n.channel === LINES_CHANNEL) {
        if (!this.store.ownBackend(n.processId)) this.wake();
      } else if (n.channel === LIVE_CHANNEL) {
        const message = decodeLive(n.payload);
        if (message !== null) this.options.onLive?.(message);
      }
    });
    const lost = (err?: Error) => {
      if (this.session !== session) return;
      this.session = null;
      // The locks went with the session: another process may take these apps over now.
      const apps = this.heldApps();
      this.forgetHeld();
      // Not decided here: whoever takes these apps decides their errors from the stored lines.
      for (const app of apps) this.analyses.drop(app);
      if (apps.length > 0 || err !== undefined)
        this.options.log({
          at: 'warn',
          event: 'analysis-session-lost',
          apps: apps.join(','),
          error: err?.message ?? 'ended',
        });
      if (!this.closed) {
        this.reconnect = setTimeout(() => {
          this.connect().then(
            () => this.wake(),
            () => lost(new Error('reconnect failed')),
          );
        }, RECONNECT_MS);
        this.reconnect.unref();
      }
    };
    session.on('error', (err) => lost(err));
    session.on('end', () => lost());
    await session.connect();
    await session.query(`LISTEN ${LINES_CHANNEL}`);
    if (this.options.onLive !== undefined) await session.query(`LISTEN ${LIVE_CHANNEL}`);
    this.session = session;
  }

  private async round(): Promise<void> {
    const session = this.session;
    if (session === null) return;
    // Apps with unread lines, and apps that sent within the replay span: a holder that died
    // after reading everything still left errors undecided, with no new line to tell.
    const candidates = new Set([
      ...(await this.store.pendingApps()),
      ...(await this.store.activeApps(Date.now() - this.options.replayMs)),
    ]);
    for (const app of candidates) {
      if (this.held.has(app) || this.closed) continue;
      const r = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        LOCK_SPACE,
        appLockKey(app),
      ]);
      if (r.rows[0]?.ok === true) await this.takeOver(app);
    }
    for (const [app, at] of this.held) {
      const from = at.seq;
      for (;;) {
        if (this.closed || this.session !== session) return;
        if (!(await this.step(app, at))) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (at.seq > from) await this.store.saveCursor(app, at.seq, at.receivedMs);
    }
  }

  /**
   * Feeds the app's next lines: the kept batch that starts right after the cursor, or else
   * the stored lines up to the next kept batch. Resolves false when there was nothing new.
   */
  private async step(app: string, at: Held): Promise<boolean> {
    const next = at.kept.get(at.seq + 1);
    if (next !== undefined) {
      this.unkeep(at, at.seq + 1);
      this.analyses.feed(app, next.lines);
      this.fed.kept += next.lines.length;
      at.seq += next.lines.length;
      at.receivedMs = next.receivedMs;
      return true;
    }
    const before = at.kept.size === 0 ? undefined : Math.min(...at.kept.keys());
    const rows = await this.store.linesAfter(app, at.seq, READ_BATCH, before);
    const last = rows[rows.length - 1];
    if (last === undefined) {
      // A kept batch that does not follow the cursor while nothing is stored before it was
      // overtaken (read from the database already): drop it.
      if (before !== undefined && before <= at.seq) this.unkeep(at, before);
      return before !== undefined && before <= at.seq;
    }
    this.analyses.feed(
      app,
      rows.map((r) => r.line),
    );
    this.fed.read += rows.length;
    at.seq = last.seq;
    at.receivedMs = last.receivedMs;
    for (const first of [...at.kept.keys()]) if (first <= at.seq) this.unkeep(at, first);
    return true;
  }

  private unkeep(at: Held, first: number): void {
    const batch = at.kept.get(first);
    if (batch === undefined) return;
    at.kept.delete(first);
    this.keptLines -= batch.lines.length;
  }

  private forgetHeld(): void {
    this.held.clear();
    this.keptLines = 0;
  }

  private async takeOver(app: string): Promise<void> {
    const at = (await this.store.cursor(app)) ?? { seq: 0, receivedMs: 0 };
    let replayed = 0;
    if (at.seq > 0) {
      const lines = await this.store.linesUpTo(
        app,
        at.seq,
        at.receivedMs - this.options.replayMs,
        this.options.replayMaxLines,
      );
      replayed = lines.length;
      this.analyses.feed(app, lines);
    }
    this.held.set(app, { seq: at.seq, receivedMs: at.receivedMs, kept: new Map() });
    this.options.log({ at: 'info', event: 'analysis-taken', app, cursor: at.seq, replayed });
  }

  /** Stops reading; the locks go when `release()` ends the session (after the diagnoses are stored). */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnect);
    await this.running;
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    this.forgetHeld();
    this.store.onCommitted = undefined;
    await session?.end().catch(() => {});
  }
}
