// HTTP requests to a test pool's web daemon, with full control of the headers (Host, Origin, Content-Length),
// which fetch() does not give.
import { request } from 'node:http';
import type { TestPool } from './pool.js';

export interface WebReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface WebRequest {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  /** an object is sent as JSON */
  body?: unknown;
}

/** host:port of the pool's web daemon (run/web.address). */
export function webAddress(pool: TestPool): string {
  return pool.daemonAddress('web');
}

export function web(pool: TestPool, path: string, opts: WebRequest = {}): Promise<WebReply> {
  const [host, port] = [webAddress(pool).replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(webAddress(pool))![1])];
  const body =
    opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = {
    ...(body !== undefined
      ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }
      : {}),
    ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
    ...opts.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: host.replace(/^\[|\]$/g, ''),
        port,
        path,
        method: opts.method ?? (body !== undefined ? 'POST' : 'GET'),
        headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${path}: no answer in 60 s`)));
    req.end(body);
  });
}

/** Follow /v1/events until `until` accepts an event; resolves with the events seen. Bounded by `timeoutMs`. */
export function webEvents(
  pool: TestPool,
  until: (event: string, data: any) => boolean,
  opts: { token?: string; timeoutMs?: number; onOpen?: () => void } = {},
): Promise<Array<{ event: string; data: any }>> {
  const [host, port] = [webAddress(pool).replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(webAddress(pool))![1])];
  return new Promise((resolve, reject) => {
    const seen: Array<{ event: string; data: any }> = [];
    const req = request(
      { host, port, path: '/v1/events', headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {} },
      (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!event) continue;
            const parsed = data ? JSON.parse(data) : undefined;
            seen.push({ event, data: parsed });
            if (event === 'hello') opts.onOpen?.();
            if (until(event, parsed)) {
              clearTimeout(t);
              req.destroy();
              resolve(seen);
              return;
            }
          }
        });
      },
    );
    const t = setTimeout(() => {
      req.destroy();
      reject(
        new Error(`no matching event in ${opts.timeoutMs ?? 60_000} ms; saw ${JSON.stringify(seen).slice(0, 2000)}`),
      );
    }, opts.timeoutMs ?? 60_000);
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
    req.end();
  });
}
