/** The http-proxy peer: node:http server + http-proxy with a keep-alive agent. */
import http from 'node:http';
import httpProxy from 'http-proxy';

const target = process.argv[2] ?? 'http://127.0.0.1:3000';
const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
const proxy = httpProxy.createProxyServer({ target, agent, xfwd: true });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${port}`);
});
