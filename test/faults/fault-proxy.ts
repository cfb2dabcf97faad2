/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of a collector: passes requests on, or drops the connection
 * before or after the collector has answered, answers 500, answers slowly, or is down (connection refused).
 * Records every request it sees: the mode, the event ids in the body and the collector's answer.
 *
 * "Slow" holds a request, not a timer: it is passed on only when the mode leaves 'slow' (or `releaseSlow()`, or
 * `close()`), so the client waits exactly as long as the test keeps the collector slow, however fast the machine.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'drop-before' | 'drop-after' | 'error500' | 'slow' | 'down';

export interface Seen {
  mode: FaultMode;
  ids: string[];
  /** The collector's answer when it was asked (pass, drop-after, slow). */
  status?: number;
  answer?: { accepted?: number; duplicates?: number };
}

export interface FaultProxy {
  url: string;
  seen: Seen[];
  /** Leaving 'slow' passes the held requests on (then goes down, if that is the new mode). */
  setMode: (mode: FaultMode) => Promise<void>;
  /** Requests held by 'slow' right now. */
  held: () => number;
  /** Passes the held requests on and stays in the current mode (later 'slow' requests are held again). */
  releaseSlow: () => void;
  close: () => Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((ok, fail) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => ok(Buffer.concat(parts)));
    req.on('error', fail);
  });

export const startFaultProxy = async (target: string): Promise<FaultProxy> => {
  let mode: FaultMode = 'pass';
  const seen: Seen[] = [];
  let slow: Array<() => void> = [];
  const releaseSlow = () => {
    const go = slow;
    slow = [];
    for (const pass of go) pass();
  };
  const forward = async (req: IncomingMessage, body: Buffer) => {
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'origin', 'user-agent']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const res = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === 'POST' ? new Uint8Array(body) : undefined,
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const reply = (res: ServerResponse, r: { status: number; headers: Headers; text: string }) => {
    const h: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(k))
        h[k] = v;
    });
    res.writeHead(r.status, h).end(r.text);
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const m = mode;
    if (req.method !== 'POST') {
      // CORS preflights and the like: always passed on.
      reply(res, await forward(req, body));
      return;
    }
    let ids: string[] = [];
    try {
      ids = ((JSON.parse(body.toString()) as { events?: { id: string }[] }).events ?? []).map((e) => e.id);
    } catch {
      /* not a batch */
    }
    const entry: Seen = { mode: m, ids };
    seen.push(entry);
    if (m === 'drop-before') return void req.socket.destroy();
    if (m === 'error500') {
      res.writeHead(500, {
        'Content-Type': 'application/json',
        'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      });
      return void res.end('{"error":"[fault proxy] injected 500"}');
    }
    if (m === 'slow') await new Promise<void>((pass) => slow.push(pass));
    const r = await forward(req, body);
    entry.status = r.status;
    try {
      entry.answer = JSON.parse(r.text) as Seen['answer'];
    } catch {
      /* not JSON */
    }
    // Committed by the collector, but the answer never reaches the browser.
    if (m === 'drop-after') return void req.socket.destroy();
    reply(res, r);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const down = () =>
    new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    });
  const up = () => new Promise<void>((ok, fail) => server.listen(port, '127.0.0.1', ok).once('error', fail));
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    setMode: async (next) => {
      if (next === mode) return;
      const was = mode;
      mode = next;
      if (was === 'slow') releaseSlow();
      if (next === 'down') await down();
      else if (was === 'down') await up();
    },
    held: () => slow.length,
    releaseSlow,
    close: async () => {
      releaseSlow();
      if (mode !== 'down') await down();
    },
  };
};
