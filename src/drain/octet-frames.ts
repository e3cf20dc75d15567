/**
 * RFC 6587 octet counting on the bytes of a logplex body: `LEN SP MESSAGE`, repeated, where
 * LEN counts bytes (not characters: a frame with multi-byte UTF-8 must be cut on a Buffer).
 * Logplex documents the body as exactly that (doc/README.http_drains.md in heroku/logplex).
 *
 * Lenient by design, because a frame thrown away is evidence lost: whitespace between
 * frames is skipped, and a LEN that lies (past the end, or not landing on the next frame) is
 * recovered by cutting at the next newline that starts a frame. Each problem is reported, so
 * it is counted and shown, and the bytes still become a line.
 */

export type FrameProblem =
  /** Bytes where a LEN was expected (not digits and a space). */
  | 'malformed-frame'
  /** A LEN that runs past the body or does not end where the next frame starts. */
  | 'bad-length';

export interface FrameSink {
  frame(body: Buffer, start: number, end: number): void;
  problem(kind: FrameProblem, body: Buffer, start: number, end: number): void;
}

/** LEN is at most this many digits (logplex frames are far below 10 MB). */
const MAX_LEN_DIGITS = 7;

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;
const isSpace = (c: number | undefined) => c === 10 || c === 13 || c === 32 || c === 9;

/** LEN SP `<` at `at`: the start of a frame. Returns the index after the space, or -1. */
function frameStart(body: Buffer, at: number): number {
  let i = at;
  while (i < body.length && i - at < MAX_LEN_DIGITS && isDigit(body[i])) i++;
  if (i === at || body[i] !== 32 || body[i + 1] !== 60 /* < */) return -1;
  return i + 1;
}

/** The next newline after `from` that is followed by a frame start, or -1. */
function nextFrameLine(body: Buffer, from: number): number {
  let nl = body.indexOf(10, from);
  while (nl >= 0) {
    if (frameStart(body, nl + 1) >= 0) return nl;
    nl = body.indexOf(10, nl + 1);
  }
  return -1;
}

function trimEnd(body: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && (body[e - 1] === 10 || body[e - 1] === 13)) e--;
  return e;
}

export function splitOctetFrames(body: Buffer, sink: FrameSink): number {
  let frames = 0;
  let pos = 0;
  const n = body.length;
  while (pos < n) {
    while (pos < n && isSpace(body[pos])) pos++;
    if (pos >= n) break;
    const msgStart = frameStart(body, pos);
    if (msgStart < 0) {
      // Not a frame: everything up to the next frame-starting line is one bad chunk, kept.
      const nl = nextFrameLine(body, pos);
      const end = nl < 0 ? n : nl;
      sink.problem('malformed-frame', body, pos, end);
      pos = end;
      continue;
    }
    const len = Number(body.toString('latin1', pos, msgStart - 1));
    const declaredEnd = msgStart + len;
    let next = declaredEnd;
    while (next < n && isSpace(body[next])) next++;
    const lands = declaredEnd <= n && (next === n || frameStart(body, next) >= 0);
    if (len > 0 && lands) {
      sink.frame(body, msgStart, trimEnd(body, msgStart, declaredEnd));
      frames++;
      pos = declaredEnd;
      continue;
    }
    const nl = nextFrameLine(body, msgStart);
    const end = nl < 0 ? n : nl;
    sink.problem('bad-length', body, pos, end);
    sink.frame(body, msgStart, trimEnd(body, msgStart, end));
    frames++;
    pos = end;
  }
  return frames;
}
