/**
 * The repository deploys to Heroku as is: app.json against Heroku's documented schema, and the
 * Procfile's web: line started the way a dyno starts it (through bash, by `h13 run`) from a
 * copy of what the Node buildpack leaves: package.json, the built dist/ and the production
 * dependencies only (devDependencies are pruned after the build).
 *
 * Schema: Heroku Dev Center, "app.json Schema" (https://devcenter.heroku.com/articles/app-json-schema,
 * last updated January 24, 2024). Every top-level key it documents and the shape of each that
 * this project can use are checked here; an unknown key is refused, so a typo is not ignored.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRun } from '../../src/run/index.js';
import { readWebCommand } from '../../src/run/procfile.js';
import { BASIC, logplexBody } from '../drain/drain-helpers.js';

/** The repository (this file runs from build/test/deploy/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The problems of an app.json against the Dev Center's schema reference; [] when none. */
export function appJsonProblems(doc: Json): string[] {
  const problems: string[] = [];
  const bad = (where: string, what: string) => problems.push(`${where}: ${what}`);
  if (!isObject(doc)) return ['app.json: not an object'];
  const string = (where: string, v: Json | undefined) => {
    if (v !== undefined && typeof v !== 'string') bad(where, 'must be a string');
  };
  const url = (where: string, v: Json | undefined) => {
    string(where, v);
    if (typeof v === 'string' && !URL.canParse(v)) bad(where, 'must be a URL');
  };
  const known: Record<string, (v: Json) => void> = {
    name: (v) => string('name', v),
    description: (v) => string('description', v),
    keywords: (v) => {
      if (!Array.isArray(v) || !v.every((k) => typeof k === 'string'))
        bad('keywords', 'must be an array of strings');
    },
    website: (v) => url('website', v),
    repository: (v) => url('repository', v),
    logo: (v) => url('logo', v),
    success_url: (v) => string('success_url', v),
    stack: (v) => string('stack', v),
    image: (v) => string('image', v),
    scripts: (v) => {
      if (!isObject(v)) {
        bad('scripts', 'must be an object');
        return;
      }
      for (const [k, s] of Object.entries(v)) string(`scripts.${k}`, s);
    },
    env: (v) => {
      if (!isObject(v)) {
        bad('env', 'must be an object');
        return;
      }
      for (const [k, e] of Object.entries(v)) {
        // A value is a string (the value), or an object with these keys.
        if (typeof e === 'string') continue;
        if (!isObject(e)) {
          bad(`env.${k}`, 'must be a string or an object');
          continue;
        }
        for (const [f, x] of Object.entries(e)) {
          if (f === 'description' || f === 'value') string(`env.${k}.${f}`, x);
          else if (f === 'required') {
            if (typeof x !== 'boolean') bad(`env.${k}.required`, 'must be a boolean');
          } else if (f === 'generator') {
            if (x !== 'secret') bad(`env.${k}.generator`, 'the only generator is "secret"');
          } else bad(`env.${k}.${f}`, 'is not a documented key');
        }
      }
    },
    formation: (v) => {
      if (!isObject(v)) {
        bad('formation', 'must be an object');
        return;
      }
      for (const [type, f] of Object.entries(v)) {
        if (!isObject(f)) {
          bad(`formation.${type}`, 'must be an object');
          continue;
        }
        for (const [k, x] of Object.entries(f)) {
          if (k === 'quantity') {
            if (!Number.isInteger(x) || (x as number) < 0)
              bad(`formation.${type}.quantity`, 'must be a whole number');
          } else if (k === 'size') string(`formation.${type}.size`, x);
          else bad(`formation.${type}.${k}`, 'is not a documented key');
        }
      }
    },
    addons: (v) => {
      if (!Array.isArray(v)) {
        bad('addons', 'must be an array');
        return;
      }
      v.forEach((a, i) => {
        if (typeof a === 'string') return;
        if (!isObject(a) || typeof a.plan !== 'string') {
          bad(`addons[${i}]`, 'must be a plan name or an object with a plan');
          return;
        }
        for (const k of Object.keys(a))
          if (k !== 'plan' && k !== 'as' && k !== 'options')
            bad(`addons[${i}].${k}`, 'is not a documented key');
      });
    },
    buildpacks: (v) => {
      if (!Array.isArray(v)) {
        bad('buildpacks', 'must be an array');
        return;
      }
      v.forEach((b, i) => {
        if (!isObject(b) || typeof b.url !== 'string')
          bad(`buildpacks[${i}]`, 'must be an object with a url');
      });
    },
    environments: (v) => {
      if (!isObject(v)) bad('environments', 'must be an object');
    },
  };
  for (const [key, value] of Object.entries(doc)) {
    const check = known[key];
    if (check === undefined) bad(key, 'is not a key of app.json');
    else check(value);
  }
  return problems;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * What the Node buildpack leaves in the slug: the repository with dist/ built and the
 * devDependencies pruned. Sources and tests are left out too (the build is already done), so
 * nothing can load from them.
 */
function slug(): string {
  const dir = mkdtempSync(join(tmpdir(), 'h13-slug-'));
  dirs.push(dir);
  for (const f of ['package.json', 'Procfile', 'app.json']) cpSync(join(ROOT, f), join(dir, f));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  // The production dependencies as npm resolved them: linked, not copied.
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((p) => p !== '' && p !== ROOT);
  for (const path of listed) {
    const rel = relative(join(ROOT, 'node_modules'), path);
    if (rel.startsWith('..') || rel.includes('node_modules')) continue;
    mkdirSync(dirname(join(dir, 'node_modules', rel)), { recursive: true });
    symlinkSync(path, join(dir, 'node_modules', rel));
  }
  return dir;
}

describe('deploying to Heroku', () => {
  it("app.json matches Heroku's documented schema, with a generated drain password", () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'app.json'), 'utf8')) as Json;
    assert.deepEqual(appJsonProblems(doc), []);
    assert.ok(isObject(doc) && isObject(doc.env));
    assert.deepEqual(doc.env.H13_DRAIN_PASSWORD, {
      description: (doc.env.H13_DRAIN_PASSWORD as { description: string }).description,
      generator: 'secret',
    });
    // The checker itself refuses what the schema does not allow.
    assert.deepEqual(
      appJsonProblems({
        nmae: 'x',
        env: { A: { generator: 'random' }, B: 5 },
        formation: { web: { quantity: 'one' } },
        addons: [{ as: 'DB' }],
      }),
      [
        'nmae: is not a key of app.json',
        'env.A.generator: the only generator is "secret"',
        'env.B: must be a string or an object',
        'formation.web.quantity: must be a whole number',
        'addons[0]: must be a plan name or an object with a plan',
      ],
    );
  });

  it('the build runs on Heroku: a build script, no heroku-postbuild overriding it, node started directly', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    // The Node buildpack runs `build` unless `heroku-postbuild` is defined (Dev Center
    // changelog 1573, "Node.js deploys now run build script by default").
    assert.equal(pkg.scripts['heroku-postbuild'], undefined);
    assert.match(pkg.scripts.build ?? '', /tsc -p tsconfig\.build\.json/);
    const web = await readWebCommand(ROOT);
    // Node flags (the drain's runtime settings, docs/drain.md "Performance") may come first.
    assert.match(
      String(web),
      /^node (--[\w-]+(=\S+)? )*dist\/cli\/main\.js /,
      'no npm between the dyno and node',
    );
  });

  for (const service of ['drain', undefined] as const) {
    it(`the Procfile's web: line serves the ${service ?? 'demo (H13_SERVICE unset)'} from a pruned slug`, async () => {
      const dir = slug();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        H13_DRAIN_PASSWORD: 'test-password-1234',
      };
      delete env.H13_SERVICE;
      if (service !== undefined) env.H13_SERVICE = service;
      const run = await startRun({
        command: String(await readWebCommand(dir)),
        cwd: dir,
        env,
        log: null,
        collect: true,
        grace: 10_000,
      });
      try {
        await run.whenUp();
        if (service === 'drain') {
          assert.equal((await fetch(`${run.url}/api/apps`)).status, 401);
          const { body, count } = logplexBody([
            '2026-12-06T10:00:00.000000+00:00 app[web.1]: hello from the slug',
          ]);
          const posted = await fetch(`${run.url}/drain/slug-app`, {
            method: 'POST',
            headers: {
              authorization: BASIC,
              'content-type': 'application/logplex-1',
              'logplex-msg-count': String(count),
            },
            body,
          });
          assert.equal(posted.status, 200, await posted.text());
          const apps = await fetch(`${run.url}/api/apps`, { headers: { authorization: BASIC } });
          assert.match(await apps.text(), /"slug-app"/);
        } else {
          const page = await fetch(`${run.url}/`);
          assert.equal(page.status, 200);
          assert.match(await page.text(), /\/destroy/);
        }
      } finally {
        assert.equal(await run.stop(), 0, run.lines.join('\n'));
      }
      // SIGTERM reached node itself (no npm in between): the drain ends cleanly (0), the demo,
      // which keeps Node's default for SIGTERM, by the signal (143); neither needed SIGKILL.
      const status = service === 'drain' ? 0 : 143;
      assert.ok(
        run.lines.some((l) => l.endsWith(`Process exited with status ${status}`)),
        run.lines.join('\n'),
      );
      assert.ok(!run.lines.some((l) => /R12|main process|SIGKILL/.test(l)), run.lines.join('\n'));
    });
  }
});
