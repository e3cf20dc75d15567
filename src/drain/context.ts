/** What every route handler works with: the settings, the store, the analyses, the limits. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogfmtValue } from '../core/logfmt.js';
import type { AnalysisFeed } from './app-analyses.js';
import type { AppLimits } from './app-limits.js';
import type { Credential } from './auth.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { GroupCommit } from './group-commit.js';
import type { LiveEvents } from './live-events.js';
import type { DrainSettings } from './options.js';
import type { SessionKeys } from './session.js';
import type { SessionEnds } from './session-ends.js';
import type { Store } from './store.js';

export interface DrainContext {
  readonly settings: DrainSettings;
  readonly store: Store;
  /** Where ingest requests commit their batches (together with those that arrived with them). */
  readonly commits: GroupCommit;
  /** Where stored lines go to be analysed (in this process, or by the app's lock holder). */
  readonly analyses: AnalysisFeed;
  readonly limits: AppLimits;
  readonly credential: Credential;
  /** The web page's session keys and its live event stream. */
  readonly web: {
    readonly session: SessionKeys;
    /** Ends a session on every process sharing the store (session-ends.ts). */
    readonly ends: SessionEnds;
    readonly live: LiveEvents;
    readonly logins: AuthThrottle;
  };
  /** One service log line; values are escaped by the logfmt writer. */
  readonly log: (fields: Readonly<Record<string, LogfmtValue>>) => void;
}

export interface RouteRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The path's captured parts, decoded. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
}

/** Heroku app names: lower-case letters, digits and dashes; a little wider, for other senders. */
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isAppName(name: string): boolean {
  return APP_NAME.test(name);
}
