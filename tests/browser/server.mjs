// A tiny static file server for the browser tests: serves the repository
// root on 127.0.0.1 (random port), with or without the COOP/COEP headers
// that make a page cross-origin isolated (SharedArrayBuffer available).
//
//   const srv = await serve({ root, isolated: true }); ... srv.url; srv.requests; await srv.close();
//
// Also runnable by hand: `node tests/browser/server.mjs [--isolated] [port]`.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.wav': 'audio/wav',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export async function serve({ root = REPO, isolated = false, port = 0, routes = {} } = {}) {
  const base = resolve(root);
  const requests = []; // every path asked for, in order (whatever the engine)
  const server = createServer(async (req, res) => {
    requests.push(new URL(req.url, 'http://x').pathname);
    const headers = { 'cache-control': 'no-store' };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
      headers['cross-origin-resource-policy'] = 'same-origin';
    }
    try {
      const url = new URL(req.url, 'http://x');
      const route = routes[url.pathname];
      if (route) {
        await route(req, res, headers);
        return;
      }
      if (url.pathname === '/favicon.ico') { // asked for by Firefox: no content, not a failure
        res.writeHead(204, headers);
        res.end();
        return;
      }
      let path = decodeURIComponent(url.pathname);
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
      let s = await stat(file);
      if (s.isDirectory()) {
        file = join(file, 'index.html');
        s = await stat(file);
      }
      const body = await readFile(file);
      headers['content-type'] = TYPES[extname(file)] || 'application/octet-stream';
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' ? 404 : 500, { ...headers, 'content-type': 'text/plain' });
      res.end(String(e.code || e.message));
    }
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  const { port: p } = server.address();
  return {
    url: `http://127.0.0.1:${p}`,
    server,
    requests,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const isolated = process.argv.includes('--isolated');
  const port = Number(process.argv.find((a) => /^\d+$/.test(a)) || 8080);
  const s = await serve({ isolated, port });
  console.log(`serving ${REPO} at ${s.url}${isolated ? ' (cross-origin isolated)' : ''}`);
}
