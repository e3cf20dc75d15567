/**
 * nginx as the benchmark's reference proxy, configured to do comparable work to h13 router:
 * one worker process, upstream keep-alive, the router's forwarding headers (request id,
 * X-Forwarded-*, X-Request-Start, Via on both sides), and one access-log line per request
 * written to a file through a 64 KiB buffer, as the router's CLI batches its lines (one write
 * per event-loop turn). Client connections are never closed for a request count (nginx's
 * default closes them every 1000 requests; the router and the app never do).
 */

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnPinned } from './processes.js';

function config(dir: string, upstream: string, port: number): string {
  const u = new URL(upstream);
  return `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  log_format router '$time_iso8601 heroku[router]: at=info method=$request_method '
    'path="$request_uri" host=$host request_id=$request_id fwd="$remote_addr" dyno=web.1 '
    'connect=$upstream_connect_time service=$upstream_response_time status=$status '
    'bytes=$bytes_sent protocol=$server_protocol';
  access_log ${dir}/access.log router buffer=64k flush=1s;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
    server ${u.hostname}:${u.port};
    keepalive 128;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Request-Id $request_id;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Request-Start $msec;
      proxy_set_header Via "1.1 vegur";
      add_header Via "1.1 vegur" always;
    }
  }
}`;
}

/** nginx cannot pick a free port itself: take one, release it, hand it over. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startNginx(
  nginx: string,
  cpus: string | null,
  dir: string,
  upstream: string,
): Promise<{ pid: number; url: string }> {
  const port = await freePort();
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, config(dir, upstream, port));
  const child = spawnPinned(cpus, nginx, ['-c', file, '-p', dir]);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${url}/`);
      return { pid: child.pid as number, url };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nginx did not answer on ${url}; see ${dir}/error.log`);
}
