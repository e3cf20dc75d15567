import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { H13Error } from '../core/errors.js';

/** The `web:` command of a Procfile, as Heroku reads it: `web: npm start` → `npm start`. */
export function webCommandOf(procfile: string): string | null {
  for (const line of procfile.split(/\r?\n/)) {
    const m = /^web:\s*(.+?)\s*$/.exec(line);
    if (m !== null) return m[1] as string;
  }
  return null;
}

export async function readWebCommand(cwd: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(join(cwd, 'Procfile'), 'utf8');
  } catch {
    throw new H13Error(
      'H13_ERR_NO_PROCFILE',
      `no command given and no Procfile in ${cwd} (usage: h13 run -- node app.js)`,
    );
  }
  const command = webCommandOf(text);
  if (command === null)
    throw new H13Error('H13_ERR_NO_PROCFILE', `the Procfile in ${cwd} has no web: line`);
  return command;
}
