/**
 * The OTLP logs messages the drain reads and writes, as a protobufjs schema: protobufjs does
 * the wire decoding and encoding. The field names, numbers and types are those of
 * open-telemetry/opentelemetry-proto (opentelemetry/proto/collector/logs/v1/logs_service.proto,
 * logs/v1/logs.proto, common/v1/common.proto, resource/v1/resource.proto) and of
 * google/rpc/status.proto, which OTLP/HTTP answers errors with. Only what a log drain needs
 * is declared: fields left out (entity refs, schema URLs, scope attributes) are skipped by
 * the decoder as unknown fields, as protobuf readers do with fields added later.
 *
 * Why not an OpenTelemetry package: @opentelemetry/otlp-transformer shipped a generated
 * protobufjs root with decoders up to 0.214.0; from 0.215.0 it only has hand-written
 * encoders and response readers. Pinning 0.214.0 pins the SDK 2.x tree under it, whose peer
 * range `@opentelemetry/api <1.10` clashes with any app on OpenTelemetry 3.x (h13 is also
 * installed into apps for the guard). The OTel exporters are the test senders instead.
 */

import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';

/**
 * Every CLI command imports the drain's modules, so protobufjs (about 100 ms to load on a
 * busy 2-core machine) is loaded on the first OTLP request rather than at start.
 */
const load = (): typeof Protobuf => createRequire(import.meta.url)('protobufjs') as typeof Protobuf;

const fields = (spec: Record<string, [number, string, ('repeated' | undefined)?]>) =>
  Object.fromEntries(
    Object.entries(spec).map(([name, [id, type, rule]]) => [
      name,
      rule === undefined ? { id, type } : { id, type, rule },
    ]),
  );

const SCHEMA = {
  nested: {
    otlp: {
      nested: {
        AnyValue: {
          oneofs: {
            value: {
              oneof: [
                'stringValue',
                'boolValue',
                'intValue',
                'doubleValue',
                'arrayValue',
                'kvlistValue',
                'bytesValue',
              ],
            },
          },
          fields: fields({
            stringValue: [1, 'string'],
            boolValue: [2, 'bool'],
            intValue: [3, 'int64'],
            doubleValue: [4, 'double'],
            arrayValue: [5, 'ArrayValue'],
            kvlistValue: [6, 'KeyValueList'],
            bytesValue: [7, 'bytes'],
          }),
        },
        ArrayValue: { fields: fields({ values: [1, 'AnyValue', 'repeated'] }) },
        KeyValueList: { fields: fields({ values: [1, 'KeyValue', 'repeated'] }) },
        KeyValue: { fields: fields({ key: [1, 'string'], value: [2, 'AnyValue'] }) },
        InstrumentationScope: { fields: fields({ name: [1, 'string'], version: [2, 'string'] }) },
        Resource: {
          fields: fields({
            attributes: [1, 'KeyValue', 'repeated'],
            droppedAttributesCount: [2, 'uint32'],
          }),
        },
        LogRecord: {
          fields: fields({
            timeUnixNano: [1, 'fixed64'],
            observedTimeUnixNano: [11, 'fixed64'],
            severityNumber: [2, 'int32'],
            severityText: [3, 'string'],
            body: [5, 'AnyValue'],
            attributes: [6, 'KeyValue', 'repeated'],
            droppedAttributesCount: [7, 'uint32'],
            flags: [8, 'fixed32'],
            traceId: [9, 'bytes'],
            spanId: [10, 'bytes'],
            eventName: [12, 'string'],
          }),
        },
        ScopeLogs: {
          fields: fields({
            scope: [1, 'InstrumentationScope'],
            logRecords: [2, 'LogRecord', 'repeated'],
          }),
        },
        ResourceLogs: {
          fields: fields({ resource: [1, 'Resource'], scopeLogs: [2, 'ScopeLogs', 'repeated'] }),
        },
        ExportLogsServiceRequest: {
          fields: fields({ resourceLogs: [1, 'ResourceLogs', 'repeated'] }),
        },
        ExportLogsPartialSuccess: {
          fields: fields({ rejectedLogRecords: [1, 'int64'], errorMessage: [2, 'string'] }),
        },
        ExportLogsServiceResponse: {
          fields: fields({ partialSuccess: [1, 'ExportLogsPartialSuccess'] }),
        },
        Status: { fields: fields({ code: [1, 'int32'], message: [2, 'string'] }) },
      },
    },
  },
};

interface Codec {
  readonly request: Protobuf.Type;
  readonly response: Protobuf.Type;
  readonly status: Protobuf.Type;
}

let codec: Codec | undefined;

function types(): Codec {
  if (codec === undefined) {
    const root = load().Root.fromJSON(SCHEMA);
    const type = (name: string) => root.lookupType(`otlp.${name}`);
    codec = {
      request: type('ExportLogsServiceRequest'),
      response: type('ExportLogsServiceResponse'),
      status: type('Status'),
    };
  }
  return codec;
}

/**
 * An ExportLogsServiceRequest as the plain object of its OTLP JSON encoding: lowerCamelCase
 * keys, 64-bit integers as decimal strings. JSON bodies parse straight into this shape, so
 * both encodings are read by one reader (otlp-records.ts).
 */
export function decodeLogsRequest(body: Uint8Array): unknown {
  const { request } = types();
  return request.toObject(request.decode(body), { longs: String, bytes: String, defaults: false });
}

export function encodeLogsResponse(rejected: number, errorMessage: string): Uint8Array {
  const { response } = types();
  const partialSuccess = rejected > 0 || errorMessage !== '';
  return response
    .encode(
      response.fromObject(
        partialSuccess ? { partialSuccess: { rejectedLogRecords: rejected, errorMessage } } : {},
      ),
    )
    .finish();
}

/** google.rpc.Status, the body of an OTLP/HTTP error answer. */
export function encodeStatus(code: number, message: string): Uint8Array {
  const { status } = types();
  return status.encode(status.fromObject({ code, message })).finish();
}
