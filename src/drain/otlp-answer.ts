/**
 * OTLP/HTTP answers (open-telemetry/opentelemetry-proto docs/specification.md, "OTLP/HTTP
 * Response"): in the encoding of the request, an ExportLogsServiceResponse on success and a
 * google.rpc.Status on failure.
 */

import type { ServerResponse } from 'node:http';
import { safeJson } from '../core/safe-json.js';
import { encodeLogsResponse, encodeStatus } from './otlp-schema.js';

export const OTLP_PROTOBUF = 'application/x-protobuf';
export const OTLP_JSON = 'application/json';

/** google.rpc.Code values used in error answers. */
export const INVALID_ARGUMENT = 3;
export const PERMISSION_DENIED = 7;
export const RESOURCE_EXHAUSTED = 8;
export const UNAVAILABLE = 14;

export type Encoding = typeof OTLP_PROTOBUF | typeof OTLP_JSON;

function answer(
  res: ServerResponse,
  encoding: Encoding,
  status: number,
  body: { protobuf: Uint8Array; json: unknown },
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const bytes =
    encoding === OTLP_PROTOBUF
      ? Buffer.from(body.protobuf)
      : Buffer.from(`${safeJson(body.json)}\n`);
  res.writeHead(status, {
    'content-type': encoding,
    'content-length': String(bytes.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(bytes);
}

/** An error answer: a google.rpc.Status; the connection closes when the body was not read. */
export function fail(
  res: ServerResponse,
  encoding: Encoding,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  answer(
    res,
    encoding,
    status,
    { protobuf: encodeStatus(code, message), json: { code, message } },
    {
      connection: 'close',
      ...headers,
    },
  );
}

/** 200: everything kept, or a partial_success naming how many records were not and why. */
export function succeed(
  res: ServerResponse,
  encoding: Encoding,
  rejected: number,
  errorMessage: string,
): void {
  answer(res, encoding, 200, {
    protobuf: encodeLogsResponse(rejected, errorMessage),
    json:
      rejected > 0
        ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage } }
        : {},
  });
}
