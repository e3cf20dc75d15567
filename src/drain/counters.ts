/**
 * Every per-app counter the drain keeps, with what it means: the one list `/api/apps` shows
 * and docs/drain.md explains. Bad input is counted here and kept (cut, escaped) as a sample,
 * never dropped without a trace.
 */

export const COUNTERS = {
  batches: 'requests whose lines were stored',
  lines: 'lines stored',
  frames: 'logplex frames read',
  'duplicate-batches':
    'retried batches (a Logplex-Frame-Id this app sent before): answered 200, not stored again',
  'malformed-frame': 'bytes where an octet count was expected; kept as one line',
  'bad-length':
    'frames whose octet count ran past the body or did not end where the next frame starts; cut at the next frame instead',
  'unreadable-frame': 'frames that are not RFC 5424 as logplex writes it; kept as they came',
  'msg-count-mismatch': 'batches whose Logplex-Msg-Count differs from the frames read',
  'invalid-utf8': 'lines with bytes that are not UTF-8 (stored with U+FFFD in their place)',
  'binary-line': 'lines with control bytes such as NUL',
  'oversized-line': 'lines longer than --max-line bytes, cut to it',
  'rejected-too-large': 'requests refused with 413: body over --max-body',
  'rejected-content-type': 'requests refused with 415: a content type the route does not read',
  'rejected-rate':
    'requests refused with 429: over --app-rate lines per second or too many at once',
  'rejected-bad-request':
    'requests refused with 400 (a Logplex-Msg-Count or Frame-Id that is not valid)',
  'rejected-timeout': 'requests whose body did not arrive before --request-timeout',
  'otlp-records': 'OTLP log records read (Fir telemetry drains)',
  'otlp-untimed':
    'OTLP log records with neither timeUnixNano nor observedTimeUnixNano: timed by their arrival',
  'rejected-signal':
    'OTLP trace or metric requests refused with 404: the drain reads the logs signal only',
  'rejected-undecodable':
    'OTLP requests refused with 400: a body that is not protobuf or JSON of an ExportLogsServiceRequest (or gzip that does not inflate)',
} as const;

export type CounterName = keyof typeof COUNTERS;
