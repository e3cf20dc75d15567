/**
 * A raw client socket for tests that need to act mid-request (stop sending, close early,
 * speak after an upgrade). Everything received is kept; every wait is bounded.
 */

import net from 'node:net';
import { withTimeout } from '../helpers/wait.js';

export interface RawClient {
  readonly socket: net.Socket;
  received(): string;
  /** Resolves once the received bytes match `pattern`. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves once the router closed the connection (FIN or reset). */
  closed(ms?: number): Promise<void>;
  write(text: string | Buffer): void;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    5_000,
    'raw client connect',
  );
  let data = '';
  const waiters: Array<() => void> = [];
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    isClosed = true;
    for (const w of waiters.splice(0)) w();
  });
  const when = (check: () => boolean, ms: number, what: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const test = () => (check() ? resolve() : waiters.push(test));
        test();
      }),
      ms,
      what,
    );
  return {
    socket,
    received: () => data,
    waitFor: async (pattern, ms = 5_000) => {
      await when(() => pattern.test(data), ms, `${pattern} in ${JSON.stringify(data)}`);
      return data;
    },
    closed: (ms = 5_000) => when(() => isClosed, ms, 'the router to close the connection'),
    write: (text) => {
      socket.write(text);
    },
  };
}
