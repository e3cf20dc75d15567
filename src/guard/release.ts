/**
 * Letting go of a finished request. A socket's state points at its latest request, so the
 * guard can tell whether a response is in flight on it. Kept until the next request, that
 * pointer held every finished request (its record, req, res and what they reference) through
 * the idle time of a keep-alive connection: those objects outlived scavenges, were promoted,
 * and V8 grew the young generation and ran mark-compacts a bare server never needs
 * (docs/guard.md, "Eleventh session").
 *
 * Node detaches a finished response from its socket (resOnFinish calls res.detachSocket), so
 * that method is wrapped once per process, on the prototype (as echo-id.ts does for the head),
 * and drops the pointer there. The record itself stays on the request, so requestInfo(req)
 * and stepFor(req) still work after the response finished.
 *
 * Not for the last response on a connection (`Connection: close`): Node ends the socket right
 * after detaching it, and during a drain coexist.ts tells that end from an app's by the record
 * still being there (test/guard/coexist.test.ts fails without this). The socket goes away
 * with its state.
 */

import http, { type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { socketState } from './state.js';

type DetachSocket = (this: ServerResponse, socket: Socket) => unknown;

let installed = false;

/** Wrap ServerResponse's detachSocket once. Unguarded sockets pass through unchanged. */
export function installRelease(): void {
  if (installed) return;
  installed = true;
  const proto = http.ServerResponse.prototype as unknown as { detachSocket?: DetachSocket };
  const detach = proto.detachSocket;
  if (typeof detach !== 'function') return;
  proto.detachSocket = function releasingDetachSocket(this: ServerResponse, socket: Socket) {
    const s = socket === null || typeof socket !== 'object' ? undefined : socketState(socket);
    if (s !== undefined && s.current?.res === this && (this as { _last?: boolean })._last !== true)
      s.current = null;
    return detach.call(this, socket);
  } as DetachSocket;
}
