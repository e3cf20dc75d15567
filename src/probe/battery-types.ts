/**
 * The shape of one bad-request case. The tables live in battery-syntax.ts and battery-body.ts;
 * battery.ts assembles them in their documented order.
 */

/** Groups in the order the battery runs and the report lists them. */
export const CASE_GROUPS = {
  'request-line': 'request line: target forms, separators, line ends',
  method: 'method token',
  version: 'HTTP version',
  headers: 'header field syntax and values',
  host: 'the Host header',
  'content-length': 'Content-Length framing',
  'transfer-encoding': 'Transfer-Encoding framing',
  chunked: 'chunked body syntax',
  oversized: 'oversized request line, header lines and heads',
  'not-http': 'bytes that are not HTTP/1.1',
  pipelined: 'pipelined requests and left-over bytes',
  'early-response': 'bodies the server may answer before reading',
} as const;

export type CaseGroup = keyof typeof CASE_GROUPS;

/**
 * What RFC 9112 lets a server do with the case once the whole request arrived: `any` complete
 * response (the request is valid, or odd but acceptable), or one of the listed statuses. In
 * every case a response is owed: a close without one, a reset or a truncated response is never
 * acceptable.
 */
export type Acceptable = 'any' | readonly number[];

export interface CaseDef {
  readonly id: string;
  readonly group: CaseGroup;
  /**
   * The bytes, as a latin1 string. `{host}` becomes the target's Host value and `{path}` its
   * path, so the case reaches the route the user named.
   */
  readonly send: string;
  /** What RFC 9112 says, with the section. */
  readonly rfc: string;
  readonly accept: Acceptable;
}

export const ANY: Acceptable = 'any';
/** A malformed request: RFC 9112 §3 "SHOULD respond with a 400". */
export const BAD: Acceptable = [400];
/** Too large: 414 for the target, 431 for fields, 400 allowed everywhere. */
export const TOO_LARGE: Acceptable = [400, 413, 414, 431];
/** An unknown or unsupported method: 400 or 405/501 (RFC 9110 §9.1). */
export const BAD_METHOD: Acceptable = [400, 405, 501];
/** An unsupported version: 505 (RFC 9110 §15.6.6) or 400. */
export const BAD_VERSION: Acceptable = [400, 505];
/** An unknown transfer coding: 501 (RFC 9112 §6.1) or 400. */
export const BAD_CODING: Acceptable = [400, 501];

export const HOST = 'Host: {host}\r\n';
