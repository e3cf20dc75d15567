/**
 * docs/drain.md's generated part `drain-reference`: options, routes and counters, from their
 * tables (scripts/render-docs.ts splices it in; test/core/docs-sync.test.ts checks it).
 */

import { formatDuration } from '../core/duration.js';
import { markdownCell as cell } from '../core/generated-docs.js';
import { COUNTERS } from './counters.js';
import { DRAIN_API_NAMES, DRAIN_OPTIONS } from './options.js';
import { ROUTES, type RouteAuth } from './routes.js';

const AUTH_SHOWN: Readonly<Record<RouteAuth, string>> = {
  basic: 'Basic',
  'basic-or-bearer': 'Basic or Bearer',
  session: 'session cookie (or Basic)',
  public: 'none',
};

export function renderDrainReference(): string {
  const options = Object.entries(DRAIN_OPTIONS).map(([name, spec]) => {
    const api = DRAIN_API_NAMES[name as keyof typeof DRAIN_OPTIONS];
    const def =
      'default' in spec
        ? spec.type === 'duration'
          ? formatDuration(spec.default)
          : String(spec.default)
        : '';
    return `| \`--${name}\` | \`${api}\` | ${spec.type} | ${cell(def)} | ${cell(spec.description)} |`;
  });
  const routes = ROUTES.map((r) => {
    const names = [...(r.params ?? [r.path.source.includes('requests') ? 'REQUEST_ID' : 'APP'])];
    const path = r.path.source
      .replace(/^\^\\\//, '/')
      .replace(/\$$/, '')
      .replaceAll('\\/', '/')
      .replaceAll('\\.', '.')
      .replaceAll('([^/]+)', () => names.shift() ?? 'X')
      // An alternation such as (traces|metrics) must not split the table's cell.
      .replaceAll('|', '\\|');
    const auth = AUTH_SHOWN[r.auth];
    return `| ${r.method} | \`${path}\` | ${auth} | ${cell(r.what)} |`;
  });
  const counters = Object.entries(COUNTERS).map(
    ([name, what]) => `| \`${name}\` | ${cell(what)} |`,
  );
  return [
    '### Options',
    '',
    'The same table drives `h13 drain --help` and validates `startDrain(options)` (library names;',
    'durations there are numbers of milliseconds).',
    '',
    '| option | library | type | default | meaning |',
    '|---|---|---|---|---|',
    ...options,
    '',
    '### Routes',
    '',
    '| method | path | credential | what |',
    '|---|---|---|---|',
    ...routes,
    '',
    '### Counters per app (`GET /api/apps`)',
    '',
    '| counter | meaning |',
    '|---|---|',
    ...counters,
  ].join('\n');
}
