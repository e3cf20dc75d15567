import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  readonly server: http.Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** An http.Server on 127.0.0.1, port 0; close() also ends keep-alive sockets. */
export async function startHttpServer(
  handler: http.RequestListener,
  configure?: (server: http.Server) => void,
): Promise<TestServer> {
  const server = http.createServer(handler);
  configure?.(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
