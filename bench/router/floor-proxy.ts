/**
 * A reference, not a peer: the least work a Node proxy can do. Each client connection gets one
 * connection to the app, and bytes are copied both ways as they arrive: no HTTP parsing, no
 * headers, no log line, no timers. Its req/s on the benchmark's layout is the ceiling of any
 * proxy built on node:net streams, so the router's ratios can be read against what is
 * reachable at all. The app side reads through `onread`, as the router's dyno side does.
 */
import net from 'node:net';

const target = new URL(process.argv[2] ?? 'http://127.0.0.1:3000');
const server = net.createServer({ noDelay: true }, (client) => {
  const buffer = Buffer.allocUnsafe(16 * 1024);
  const upstream = net.connect({
    host: target.hostname,
    port: Number(target.port),
    noDelay: true,
    // The read buffer is reused: copy what is written, since a write may be queued.
    onread: { buffer, callback: (n) => client.write(Buffer.from(buffer.subarray(0, n))) },
  });
  client.on('data', (chunk: Buffer) => upstream.write(chunk));
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => {});
  upstream.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);
});
