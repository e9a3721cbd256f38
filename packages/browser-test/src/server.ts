import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny static server on 127.0.0.1 (a secure context, which WebGPU requires) on a random free port. */
export interface PageServer {
  readonly origin: string;
  /** Serves `code` as `/<name>.js` and a page that loads it as a module at `/<name>.html`; returns the page URL. */
  add(name: string, code: string): string;
  close(): Promise<void>;
}

const PAGE = (script: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>descent</title></head><body>` +
  `<script type="module" src="/${script}.js"></script></body></html>`;

export async function startServer(): Promise<PageServer> {
  const files = new Map<string, { type: string; body: string }>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const file = files.get(path);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    add(name, code) {
      if (!/^[\w-]+$/.test(name)) throw new Error(`page name must be a plain word, got ${JSON.stringify(name)}`);
      files.set(`/${name}.js`, { type: 'text/javascript; charset=utf-8', body: code });
      files.set(`/${name}.html`, { type: 'text/html; charset=utf-8', body: PAGE(name) });
      return `${origin}/${name}.html`;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
