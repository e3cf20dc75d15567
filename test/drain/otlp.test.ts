/**
 * Fir telemetry drains: OTLP/HTTP logs into a real `h13 drain` process. The senders are
 * OpenTelemetry's own: the official OTLP log exporters (protobuf and JSON) and the
 * serializers of @opentelemetry/otlp-transformer, fed records built with the logs SDK in the
 * shapes docs/drain.md "Fir telemetry drains" describes.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { until } from '../helpers/wait.js';
import {
  appInfo,
  type DrainProcess,
  diagnosesOf,
  PASSWORD,
  send,
  startDrainProcess,
} from './drain-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'h13-otlp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DYNO = 'web-58f4b5c5d-abcde';
const BEARER = `Bearer ${PASSWORD}`;
const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

type Body = string | Record<string, unknown>;

/** Records as the logs SDK makes them, all under one resource. */
function records(
  resource: Record<string, string>,
  entries: ReadonlyArray<{ at: string; body: Body; attributes?: Record<string, string> }>,
): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('h13-test');
  for (const e of entries) {
    const ms = Date.parse(e.at);
    const micros = Number(/\.(\d{6})/.exec(e.at)?.[1] ?? 0);
    logger.emit({
      timestamp: [Math.floor(ms / 1000), micros * 1000],
      body: e.body as string,
      ...(e.attributes === undefined ? {} : { attributes: e.attributes }),
    });
  }
  return memory.getFinishedLogRecords();
}

/** An H13 while the app crashes, as a Fir app's router, dyno and runtime would log it. */
function crashShape(app: string, requestId: string, appResource: Record<string, string> = {}) {
  const dyno = { 'service.instance.id': DYNO };
  return [
    ...records({ 'service.name': app, ...dyno, ...appResource }, [
      { at: '2026-03-02T11:00:05.004330Z', body: 'Error: card declined' },
      { at: '2026-03-02T11:00:05.004400Z', body: '    at pay (/app/server.js:40:11)' },
    ]),
    ...records({ 'service.name': 'heroku-runtime', ...dyno, ...appResource }, [
      { at: '2026-03-02T11:00:05.090000Z', body: 'Process exited with status 1' },
    ]),
    ...records({ 'service.name': 'heroku-router', ...appResource }, [
      {
        at: '2026-03-02T11:00:05.010002Z',
        body: `at=error code=H13 desc="Connection closed without response" method=POST path="/pay" host=${app}.herokuapp.com request_id=${requestId} fwd="203.0.113.9" dyno=${DYNO} connect=1ms service=40ms status=503 bytes=0 protocol=https`,
      },
    ]),
  ];
}

function exportWith(
  exporter: ProtoExporter | JsonExporter,
  logs: ReadableLogRecord[],
): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(logs, resolve));
}

const protobufBody = (logs: ReadableLogRecord[]) =>
  Buffer.from(ProtobufLogsSerializer.serializeRequest(logs) as Uint8Array);
const jsonBody = (logs: ReadableLogRecord[]) =>
  Buffer.from(JsonLogsSerializer.serializeRequest(logs) as Uint8Array);

describe('h13 drain: Fir telemetry drains (OTLP/HTTP logs)', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'otlp.db'), ['--window', '200ms']);
  });
  after(() => d.proc.kill());

  it('diagnoses an H13 sent as protobuf by the OTel exporter, Fir dyno names kept', async () => {
    const id = '1a2b3c4d-0000-4000-8000-000000000001';
    const exporter = new ProtoExporter({
      url: `${d.url}/otlp/fir-shop/v1/logs`,
      headers: { authorization: BEARER },
    });
    const result = await exportWith(exporter, crashShape('fir-shop', id));
    await exporter.shutdown();
    assert.equal(result.code, 0, String(result.error));
    await until(async () => (await diagnosesOf(d.url, 'fir-shop')).length > 0, 10_000, 'fir-shop');
    const [diagnosis] = await diagnosesOf(d.url, 'fir-shop');
    assert.equal(diagnosis?.code, 'H13');
    assert.equal(diagnosis?.requestId, id);
    assert.equal(diagnosis?.cause, 'app-crash', JSON.stringify(diagnosis));
    assert.ok(
      diagnosis?.evidence.some((e) => e.line.includes(`app[${DYNO}]: Error: card declined`)),
      JSON.stringify(diagnosis?.evidence),
    );
    assert.match(
      diagnosis?.line ?? '',
      /^2026-03-02T11:00:05\.010002\+00:00 heroku\[router\]: at=error code=H13 /,
    );
    const info = await appInfo(d.url, 'fir-shop');
    assert.equal(info?.counters['otlp-records'], 4);
    assert.equal(info?.counters.lines, 4);
  });

  it('reads JSON from the OTel exporter, gzipped, each record for the app its attributes name', async () => {
    const id = '1a2b3c4d-0000-4000-8000-000000000002';
    const exporter = new JsonExporter({
      url: `${d.url}/v1/logs`,
      headers: { authorization: BEARER },
      compression: 'gzip' as never,
    });
    const result = await exportWith(
      exporter,
      crashShape('fir-json', id, { 'heroku.app.name': 'fir-json' }),
    );
    await exporter.shutdown();
    assert.equal(result.code, 0, String(result.error));
    await until(async () => (await diagnosesOf(d.url, 'fir-json')).length > 0, 10_000, 'fir-json');
    const [diagnosis] = await diagnosesOf(d.url, 'fir-json');
    assert.equal(diagnosis?.requestId, id);
    assert.equal(diagnosis?.cause, 'app-crash');
  });

  it("reads Heroku's documented Fir attribute names: app from heroku.app.name, dyno from heroku.dyno.name, a bodiless router record in OpenTelemetry's HTTP names", async () => {
    // The resource attributes Heroku's reference documents for Fir (as its Telemetry team
    // listed them for OpenTelemetry, semantic-conventions PR 3008); service.name is the
    // app's own choice, and service.instance.id a dyno id (a UUID), as OpenTelemetry's
    // Heroku mapping has it. Our own fixture: no captured batch was available.
    const id = '1a2b3c4d-0000-4000-8000-000000000009';
    const app = 'fir-documented';
    const heroku = {
      'heroku.app.id': '6f0c3c7e-2f7a-4a43-9a59-0d7e4f3c1b2a',
      'heroku.app.name': app,
      'heroku.release.id': '0b7d3f8e-1c2d-4e5f-8a9b-3c4d5e6f7a8b',
      'heroku.release.version': 'v42',
    };
    const dyno = {
      ...heroku,
      'heroku.dyno.name': DYNO,
      'heroku.dyno.type': 'web',
      'service.instance.id': '9e1f2a3b-4c5d-4e6f-8a7b-1c2d3e4f5a6b',
    };
    const logs = [
      ...records({ 'service.name': 'checkout', ...dyno }, [
        { at: '2026-03-02T13:00:05.004330Z', body: 'Error: card declined' },
      ]),
      ...records({ 'service.name': 'heroku-runtime', ...dyno }, [
        { at: '2026-03-02T13:00:05.090000Z', body: 'Process exited with status 1' },
      ]),
      ...records({ 'service.name': 'heroku-router', ...heroku }, [
        {
          at: '2026-03-02T13:00:05.010002Z',
          body: '',
          attributes: {
            at: 'error',
            code: 'H13',
            desc: 'Connection closed without response',
            'http.request.method': 'POST',
            'url.path': '/pay',
            'url.query': 'step=2',
            'server.address': `${app}.herokuapp.com`,
            request_id: id,
            'client.address': '203.0.113.9',
            'heroku.dyno.name': DYNO,
            'http.response.status_code': '503',
            'http.response.body.size': '0',
            'url.scheme': 'https',
          },
        },
      ]),
    ];
    const r = await send(d.url, {
      path: '/v1/logs',
      auth: BEARER,
      headers: PROTOBUF,
      body: protobufBody(logs),
    });
    assert.equal(r.status, 200, r.text);
    await until(async () => (await diagnosesOf(d.url, app)).length > 0, 10_000, app);
    const [diagnosis] = await diagnosesOf(d.url, app);
    assert.equal(diagnosis?.requestId, id);
    assert.equal(diagnosis?.cause, 'app-crash', JSON.stringify(diagnosis));
    assert.equal(
      diagnosis?.line,
      `2026-03-02T13:00:05.010002+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=POST path="/pay?step=2" host=${app}.herokuapp.com request_id=${id} fwd=203.0.113.9 dyno=${DYNO} status=503 bytes=0 protocol=https`,
    );
    assert.ok(
      diagnosis?.evidence.some((e) => e.line.includes(`app[${DYNO}]: Error: card declined`)),
      JSON.stringify(diagnosis?.evidence),
    );
  });

  it('answers an ExportLogsServiceResponse in the encoding of the request, gzip or not', async () => {
    const logs = records({ 'service.name': 'fir-enc', 'service.instance.id': DYNO }, [
      { at: '2026-03-02T12:00:00.000001Z', body: 'hello from a Fir dyno' },
    ]);
    const json = await send(d.url, {
      path: '/v1/logs',
      headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
      body: gzipSync(jsonBody(logs)),
    });
    assert.equal(json.status, 200, json.text);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.deepEqual(json.json(), {});
    const proto = await send(d.url, {
      path: '/otlp/fir-enc/v1/logs',
      headers: PROTOBUF,
      body: protobufBody(
        records({ 'service.name': 'fir-enc' }, [
          { at: '2026-03-02T12:00:00.000002Z', body: 'again' },
        ]),
      ),
    });
    assert.equal(proto.status, 200);
    assert.equal(proto.headers['content-type'], 'application/x-protobuf');
    assert.equal(proto.text, '', 'a full success is an empty ExportLogsServiceResponse');
    const info = await appInfo(d.url, 'fir-enc');
    assert.equal(info?.counters['otlp-records'], 2);
  });

  it('writes a router record with no body from its attributes', async () => {
    const id = '1a2b3c4d-0000-4000-8000-000000000003';
    const logs = records({ 'service.name': 'heroku-router' }, [
      {
        at: '2026-03-02T12:00:07.000001Z',
        body: '',
        attributes: {
          at: 'error',
          code: 'H13',
          desc: 'Connection closed without response',
          method: 'GET',
          path: '/',
          request_id: id,
          dyno: DYNO,
          status: '503',
        },
      },
    ]);
    const r = await send(d.url, {
      path: '/otlp/fir-attrs/v1/logs',
      headers: PROTOBUF,
      body: protobufBody(logs),
    });
    assert.equal(r.status, 200);
    const trail = await send(d.url, { path: `/api/requests/${id}` });
    assert.deepEqual(
      trail.json<{ lines: Array<{ line: string }> }>().lines.map((l) => l.line),
      [
        `2026-03-02T12:00:07.000001+00:00 heroku[router]: at=error code=H13 desc="Connection closed without response" method=GET path=/ request_id=${id} dyno=${DYNO} status=503`,
      ],
    );
  });

  it('a retried request stores nothing twice', async () => {
    const body = protobufBody(
      records({ 'service.name': 'fir-retry' }, [
        { at: '2026-03-02T12:00:01.000000Z', body: 'once' },
      ]),
    );
    for (let i = 0; i < 2; i++) {
      const r = await send(d.url, { path: '/v1/logs', headers: PROTOBUF, body });
      assert.equal(r.status, 200);
    }
    const info = await appInfo(d.url, 'fir-retry');
    assert.equal(info?.counters.lines, 1);
    assert.equal(info?.counters['duplicate-batches'], 1);
  });

  it('rejects records whose app is unknown in partial_success and keeps the rest', async () => {
    const logs = [
      ...records({ 'service.name': 'heroku-router' }, [
        { at: '2026-03-02T12:00:02.000000Z', body: 'at=info method=GET path="/" status=200' },
      ]),
      ...records({ 'service.name': 'fir-partial' }, [
        { at: '2026-03-02T12:00:02.000001Z', body: 'kept' },
      ]),
    ];
    const r = await send(d.url, { path: '/v1/logs', headers: JSON_TYPE, body: jsonBody(logs) });
    assert.equal(r.status, 200, r.text);
    const answer = r.json<{
      partialSuccess: { rejectedLogRecords: string; errorMessage: string };
    }>();
    assert.equal(answer.partialSuccess.rejectedLogRecords, '1');
    assert.match(answer.partialSuccess.errorMessage, /no app/);
    assert.equal((await appInfo(d.url, 'fir-partial'))?.counters.lines, 1);
  });

  it('needs the drain credential, as Bearer (telemetry:add --headers) or Basic', async () => {
    const body = jsonBody(
      records({ 'service.name': 'fir-auth' }, [{ at: '2026-03-02T12:00:03Z', body: 'x' }]),
    );
    for (const auth of [
      null,
      'Bearer wrong-password',
      `Basic ${Buffer.from('h13:nope').toString('base64')}`,
    ]) {
      const r = await send(d.url, { path: '/v1/logs', headers: JSON_TYPE, body, auth });
      assert.equal(r.status, 401, String(auth));
    }
    assert.equal(await appInfo(d.url, 'fir-auth'), undefined);
    const ok = await send(d.url, { path: '/otlp/fir-auth/v1/logs', headers: JSON_TYPE, body });
    assert.equal(ok.status, 200);
  });

  it('answers traces and metrics 404, saying the drain reads logs only', async () => {
    const traces = await send(d.url, {
      path: '/v1/traces',
      headers: PROTOBUF,
      body: Buffer.alloc(0),
      auth: BEARER,
    });
    assert.equal(traces.status, 404);
    assert.match(traces.text, /--signals logs/);
    const metrics = await send(d.url, {
      path: '/otlp/fir-shop/v1/metrics',
      headers: JSON_TYPE,
      body: '{}',
    });
    assert.equal(metrics.status, 404);
    assert.equal(metrics.json<{ code: number }>().code, 12);
    assert.equal((await appInfo(d.url, 'fir-shop'))?.counters['rejected-signal'], 1);
  });

  it('refuses other content types and encodings with 415', async () => {
    const body = '{}';
    const text = await send(d.url, {
      path: '/otlp/fir-bad/v1/logs',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    assert.equal(text.status, 415);
    assert.equal(text.json<{ code: number }>().code, 3);
    const br = await send(d.url, {
      path: '/otlp/fir-bad/v1/logs',
      headers: { ...JSON_TYPE, 'content-encoding': 'br' },
      body,
    });
    assert.equal(br.status, 415);
  });

  it('answers 400 to bodies that do not decode, counts them, and keeps running', async () => {
    const cases: Array<[Record<string, string>, Buffer | string, RegExp]> = [
      [PROTOBUF, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), /not protobuf/],
      [JSON_TYPE, '{"resourceLogs": {"not": "an array"}}', /must be an array/],
      [JSON_TYPE, '{"resourceLogs": [', /not JSON/],
      [JSON_TYPE, '[1, 2]', /ExportLogsServiceRequest object/],
      [{ ...JSON_TYPE, 'content-encoding': 'gzip' }, 'not gzip at all', /does not inflate/],
    ];
    for (const [headers, body, message] of cases) {
      const r = await send(d.url, { path: '/otlp/fir-bad/v1/logs', headers, body });
      assert.equal(r.status, 400, r.text);
      // A google.rpc.Status in the request's encoding: its message is readable in both.
      assert.equal(r.headers['content-type'], headers['content-type']);
      assert.match(r.text, message);
    }
    // A log body nested past any decoder's recursion: refused, not a crash.
    const fields = [1, 2, 2, 5];
    for (let i = 0; i < 20_000; i++) fields.push(5, 1);
    const nested = nest(fields);
    const deep = await send(d.url, {
      path: '/otlp/fir-bad/v1/logs',
      headers: PROTOBUF,
      body: nested,
    });
    assert.equal(deep.status, 400, deep.text);
    assert.match(deep.text, /depth/);
    // The same depth in JSON parses; the body is written down to 8 levels.
    let json = '{"stringValue":"bottom"}';
    for (let i = 0; i < 5_000; i++) json = `{"arrayValue":{"values":[${json}]}}`;
    const deepJson = await send(d.url, {
      path: '/otlp/fir-deep/v1/logs',
      headers: JSON_TYPE,
      body: `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1772449200000000000","body":${json}}]}]}]}`,
    });
    assert.equal(deepJson.status, 200, deepJson.text);
    const trail = await send(d.url, { path: '/api/apps' });
    assert.equal(trail.status, 200);
    assert.equal((await appInfo(d.url, 'fir-deep'))?.counters.lines, 1);
    const info = await appInfo(d.url, 'fir-bad');
    assert.equal(info?.counters['rejected-undecodable'], 6);
    assert.equal(info?.counters['rejected-content-type'], 2);
  });

  it('counts and cuts huge values and invalid UTF-8, without losing the record', async () => {
    const huge = 'x'.repeat(200_000);
    const marker = 'MARK-INVALID-UTF8';
    const logs = records({ 'service.name': 'fir-odd', 'service.instance.id': DYNO }, [
      { at: '2026-03-02T12:00:04.000000Z', body: `big ${huge}` },
      { at: '2026-03-02T12:00:04.000001Z', body: `bad ${marker} bytes` },
      {
        at: '2026-03-02T12:00:04.000002Z',
        body: { msg: 'a "map" body\nheroku[router]: at=error', id: 'map-0001' },
      },
      {
        at: '2026-03-02T12:00:04.000003Z',
        body: 'a record whose attributes are huge',
        attributes: { dyno: 'd'.repeat(100_000), 'heroku.app.name': 'a'.repeat(100_000) },
      },
      {
        at: '2026-03-02T12:00:04.000004Z',
        body: 'huge-dyno-attribute',
        attributes: { dyno: 'd'.repeat(100_000) },
      },
    ]);
    const spoil = (body: Buffer) => {
      const at = body.indexOf(marker);
      assert.ok(at > 0);
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]).copy(body, at);
      return body;
    };
    // JSON is read as `heroku logs` text is: bad bytes become U+FFFD and are counted.
    const r = await send(d.url, {
      path: '/v1/logs',
      headers: JSON_TYPE,
      body: spoil(jsonBody(logs)),
    });
    assert.equal(r.status, 200, r.text);
    // The huge app name is no app name: that record is rejected, the others kept.
    assert.equal(
      r.json<{ partialSuccess: { rejectedLogRecords: string } }>().partialSuccess
        .rejectedLogRecords,
      '1',
    );
    const info = await appInfo(d.url, 'fir-odd');
    assert.equal(info?.counters.lines, 4);
    assert.equal(info?.counters['oversized-line'], 1);
    assert.equal(info?.counters['invalid-utf8'], 1);
    // A map body is one logfmt line, its newline escaped: it cannot pass for a router line.
    const trail = await send(d.url, { path: '/api/requests/map-0001' });
    assert.equal(trail.status, 200, trail.text);
    assert.deepEqual(
      trail.json<{ lines: Array<{ line: string }> }>().lines.map((l) => l.line),
      [
        `2026-03-02T12:00:04.000002+00:00 app[${DYNO}]: msg="a \\"map\\" body\\nheroku[router]: at=error" id=map-0001`,
      ],
    );
    // A dyno attribute that is no dyno name is passed over for the next (service.instance.id).
    const dynoTrail = await send(d.url, { path: '/api/requests/huge-dyno-attribute' });
    assert.match(dynoTrail.text, new RegExp(`app\\[${DYNO}\\]: huge-dyno-attribute`));
    // Protobuf strings must be UTF-8 (proto3): such a message does not decode.
    const p = await send(d.url, {
      path: '/otlp/fir-odd/v1/logs',
      headers: PROTOBUF,
      body: spoil(protobufBody(logs)),
    });
    assert.equal(p.status, 400);
    assert.match(p.text, /utf-8/i);
    assert.equal((await appInfo(d.url, 'fir-odd'))?.counters['rejected-undecodable'], 1);
  });
});

describe('h13 drain: OTLP apps past --max-apps', () => {
  let d: DrainProcess;
  before(async () => {
    d = await startDrainProcess(join(dir, 'max-apps.db'), ['--max-apps', '1']);
  });
  after(() => d.proc.kill());

  it('refuses a new app in the path with 403 and one named by attributes in partial_success', async () => {
    const logsOf = (app: string) =>
      protobufBody(records({ 'service.name': app }, [{ at: '2026-03-02T12:00:05Z', body: app }]));
    const first = await send(d.url, {
      path: '/otlp/fir-one/v1/logs',
      headers: PROTOBUF,
      body: logsOf('fir-one'),
    });
    assert.equal(first.status, 200);
    const second = await send(d.url, {
      path: '/otlp/fir-two/v1/logs',
      headers: PROTOBUF,
      body: logsOf('fir-two'),
    });
    assert.equal(second.status, 403);
    assert.match(second.text, /--max-apps/);
    const mixed = await send(d.url, {
      path: '/v1/logs',
      headers: JSON_TYPE,
      body: jsonBody([
        ...records({ 'service.name': 'fir-one' }, [{ at: '2026-03-02T12:00:06Z', body: 'kept' }]),
        ...records({ 'service.name': 'fir-two' }, [{ at: '2026-03-02T12:00:06Z', body: 'not' }]),
      ]),
    });
    assert.equal(mixed.status, 200, mixed.text);
    const answer = mixed.json<{
      partialSuccess: { rejectedLogRecords: string; errorMessage: string };
    }>();
    assert.equal(answer.partialSuccess.rejectedLogRecords, '1');
    assert.match(answer.partialSuccess.errorMessage, /--max-apps/);
    assert.equal((await appInfo(d.url, 'fir-one'))?.counters.lines, 2);
    assert.equal(await appInfo(d.url, 'fir-two'), undefined);
  });
});

/**
 * Length-delimited protobuf fields each inside the one before (outermost first) around an
 * empty message: ExportLogsServiceRequest.resourceLogs, .scopeLogs, .logRecords, .body,
 * then AnyValue.arrayValue / ArrayValue.values, deeper and deeper.
 */
function nest(fields: readonly number[]): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    let v = n;
    do {
      out.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
      v >>>= 7;
    } while (v > 0);
    return out;
  };
  const heads: number[][] = [];
  let size = 0;
  for (let i = fields.length - 1; i >= 0; i--) {
    const head = [((fields[i] as number) << 3) | 2, ...varint(size)];
    heads.push(head);
    size += head.length;
  }
  return Buffer.from(heads.reverse().flat());
}
