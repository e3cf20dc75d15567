/**
 * Requests per route, for error rates (errors / requests per route). Every router line counts,
 * most of them `at=info` lines read from the bytes and never decoded: the path is hashed
 * straight from the bytes (query dropped, all-digit segments folded, as normaliseRoute folds
 * them), and only a hash seen for the first time is decoded and normalised. Distinct hashes
 * are bounded; beyond the bound requests are counted apart (`overflow`), never guessed.
 */

import { parseRouterMessage } from '../core/router-line.js';
import { normaliseRoute } from './route.js';

const MAX_KEYS = 20_000;
const PATH = Buffer.from(' path=', 'latin1');

const METHOD = Buffer.from('method=', 'latin1');

/**
 * Where the path's value starts when `buf[from...]` is `method=TOKEN path=` (the router's own
 * field order: no search needed), else -1.
 */
function afterMethod(buf: Buffer, from: number, end: number): number {
  for (let k = 0; k < METHOD.length; k++) if (buf[from + k] !== METHOD[k]) return -1;
  let i = from + METHOD.length;
  while (i < end) {
    const c = buf[i] as number;
    if (c === 32) break;
    if (c === 34) return -1;
    i++;
  }
  for (let k = 0; k < PATH.length; k++) if (buf[i + k] !== PATH[k]) return -1;
  return i + PATH.length;
}

interface Counted {
  readonly route: string;
  count: number;
}

export class RouteCounts {
  private readonly byHash = new Map<number, Counted>();
  /** Requests whose path could not be read, or past the bound of distinct paths. */
  overflow = 0;

  /** A router line in `buf[from, end)` (its message part). */
  countBytes(buf: Buffer, from: number, end: number): void {
    let i = afterMethod(buf, from, end);
    if (i < 0) {
      // Not `method=TOKEN path=` right at `from`: look for the field.
      i = buf.indexOf(PATH, from);
      if (i < 0 || i >= end) {
        this.overflow++;
        return;
      }
      // ` path=` inside a quoted value before it is not the path field: the reader decides.
      let quotes = 0;
      for (let k = from; k < i; k++) if (buf[k] === 34) quotes++;
      if ((quotes & 1) === 1) {
        this.countRead(buf, from, end);
        return;
      }
      i += PATH.length;
    }
    const quoted = buf[i] === 34;
    if (quoted) i++;
    const start = i;
    // An odd request target (`?invalid=request`, `*`) is a route as it came (normaliseRoute).
    const plain = buf[i] === 47;
    // FNV-1a over the path up to its query, an all-digit segment hashed as one `#`.
    let h = 0x811c9dc5;
    let segStart = i;
    let digitsOnly = true;
    let segHash = h;
    for (; i < end; i++) {
      const c = buf[i] as number;
      if (quoted ? c === 34 : c === 32) break;
      // An escape inside a quoted path: the router-line reader unescapes it; count what it reads.
      if (quoted && c === 92) {
        this.countRead(buf, from, end);
        return;
      }
      if (plain && (c === 63 /* ? */ || c === 35) /* # */) break;
      if (plain && c === 47 /* / */) {
        h = digitsOnly && i > segStart ? Math.imul(h ^ 35, 0x01000193) : segHash;
        h = Math.imul(h ^ 47, 0x01000193);
        segHash = h;
        segStart = i + 1;
        digitsOnly = true;
        continue;
      }
      if (c < 48 || c > 57) digitsOnly = false;
      segHash = Math.imul(segHash ^ c, 0x01000193);
    }
    h = digitsOnly && i > segStart ? Math.imul(h ^ 35, 0x01000193) : segHash;
    const known = this.byHash.get(h);
    if (known !== undefined) {
      known.count++;
      return;
    }
    if (this.byHash.size >= MAX_KEYS) {
      this.overflow++;
      return;
    }
    // The rest of the path goes in too: normaliseRoute decides what of it is the route.
    let to = i;
    while (to < end && buf[to] !== (quoted ? 34 : 32)) to++;
    this.byHash.set(h, { route: normaliseRoute(buf.toString('latin1', start, to)), count: 1 });
  }

  /** The path as parseRouterMessage reads it (the rare line whose bytes cannot be hashed). */
  private countRead(buf: Buffer, from: number, end: number): void {
    const text = buf.toString('latin1', from, end);
    const at = text.indexOf('at=');
    const r = parseRouterMessage(at < 0 ? text : text.slice(at));
    if (r === null) {
      this.overflow++;
      return;
    }
    this.add(normaliseRoute(r.path));
  }

  private add(route: string): void {
    let h = 0x9747b28c;
    for (let k = 0; k < route.length; k++) h = Math.imul(h ^ route.charCodeAt(k), 0x01000193);
    const known = this.byHash.get(h);
    if (known !== undefined) known.count++;
    else if (this.byHash.size < MAX_KEYS) this.byHash.set(h, { route, count: 1 });
    else this.overflow++;
  }

  /** A router line read as text (other formats): its path as the record has it. */
  countPath(path: string): void {
    this.add(normaliseRoute(path));
  }

  /** A request whose route is known already (a diagnosed router error). */
  countRoute(route: string): void {
    this.add(route);
  }

  /** Requests per normalised route. */
  totals(): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of this.byHash.values()) out.set(c.route, (out.get(c.route) ?? 0) + c.count);
    return out;
  }
}
