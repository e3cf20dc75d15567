/**
 * One client connection that carries requests one after another (keep-alive), remembering when
 * and how the server closed it. The keep-alive, timeout and shutdown checks need what
 * exchange() does not give: several requests per connection, the moment of the server's FIN,
 * and requests written in pieces.
 */

import net from 'node:net';
import type { Ending } from '../http/raw-exchange.js';
import { type ResponseHead, ResponseParser } from '../http/response-parser.js';
import type { ProbeTarget } from './target.js';

export interface RequestOutcome {
  readonly ending: Ending;
  readonly status: number | null;
  readonly head: ResponseHead | null;
  /** performance.now() when the response completed or the connection ended. */
  readonly at: number;
  readonly bytesReceived: number;
}

type Waiter = (outcome: RequestOutcome) => void;

export class ProbeConnection {
  readonly socket: net.Socket;
  /** performance.now() of the server's FIN or RST, once seen. */
  closedAt: number | null = null;
  closedBy: 'fin' | 'rst' | null = null;
  #parser: ResponseParser | null = null;
  #received = 0;
  #lastKeepAlive = true;
  #waiter: Waiter | null = null;
  #timer: NodeJS.Timeout | undefined;
  readonly #closeWaiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onClose('fin'));
    socket.on('error', () => this.#onClose('rst'));
    socket.on('close', () => this.#onClose('fin'));
  }

  /** Connect; resolves with the connection, or the reason it could not be made. */
  static open(target: ProbeTarget, timeoutMs: number): Promise<ProbeConnection | 'refused'> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('refused');
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ProbeConnection(socket));
      });
      socket.once('error', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve('refused');
      });
    });
  }

  get open(): boolean {
    return this.closedAt === null;
  }

  /**
   * Whether another request may be sent: the connection is open and the last response did not
   * announce its close (`Connection: close`, HTTP/1.0). A proxy never reuses such a connection,
   * so a request written on it anyway would blame the server for the client's mistake.
   */
  get reusable(): boolean {
    return this.open && this.#lastKeepAlive;
  }

  /**
   * Expect a response to what is (or will be) written; resolves on the complete response, on
   * the server's close, or at the deadline (`open`).
   */
  expect(method: string, timeoutMs: number): Promise<RequestOutcome> {
    this.#parser = new ResponseParser(method, { restrict: false });
    this.#received = 0;
    return new Promise((resolve) => {
      if (!this.open) {
        resolve(this.#outcome(this.closedBy === 'rst' ? 'reset' : 'silent'));
        return;
      }
      this.#waiter = resolve;
      this.#timer = setTimeout(
        () => this.#settle(this.#received > 0 ? 'truncated' : 'open'),
        timeoutMs,
      );
    });
  }

  /** Write a whole request and wait for its response. */
  request(bytes: Buffer, method: string, timeoutMs: number): Promise<RequestOutcome> {
    const outcome = this.expect(method, timeoutMs);
    if (this.open) this.socket.write(bytes);
    return outcome;
  }

  /** Resolves once the server closed the connection (immediately if it already did). */
  whenClosed(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  destroy(): void {
    clearTimeout(this.#timer);
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const parser = this.#parser;
    if (parser === null || this.#waiter === null) return;
    this.#received += chunk.length;
    if (parser.phase === 'error') return;
    parser.push(chunk);
    if (parser.phase === 'done') this.#settle('answered');
  }

  #onClose(how: 'fin' | 'rst'): void {
    if (this.closedAt === null) {
      this.closedAt = performance.now();
      this.closedBy = how;
      for (const w of this.#closeWaiters.splice(0)) w();
    }
    if (this.#waiter !== null) {
      const complete = this.#parser?.finish() ?? false;
      this.#settle(
        complete
          ? 'answered'
          : this.#received > 0
            ? 'truncated'
            : how === 'rst'
              ? 'reset'
              : 'silent',
      );
    }
  }

  #settle(ending: Ending): void {
    const waiter = this.#waiter;
    if (waiter === null) return;
    this.#waiter = null;
    clearTimeout(this.#timer);
    if (ending === 'answered') this.#lastKeepAlive = this.#parser?.keepAlive ?? false;
    waiter(this.#outcome(ending));
  }

  #outcome(ending: Ending): RequestOutcome {
    const head = this.#parser?.head ?? null;
    return {
      ending,
      status: head?.status ?? null,
      head,
      at: performance.now(),
      bytesReceived: this.#received,
    };
  }
}
