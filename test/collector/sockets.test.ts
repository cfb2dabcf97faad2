/**
 * Hostile clients against a started Node collector, over real sockets (issue 14): a 50 MB body refused with RSS flat
 * (item 1), slow clients cut off by the server's timeouts and the connection cap (item 9), an answer sent before the
 * body was read closing the connection so a keep-alive client's next request works (issue 15, item 4), short admin
 * tokens refused at start (item 4).
 */
import { request as httpRequest, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_LIMITS, start, type Running } from '../../collector/node';
import { waitFor } from '../helpers';

const TOKEN = 'sockets-test-token-0123456789';
let running: Running[] = [];
const collector = async (options: Parameters<typeof start>[0] = {}) => {
  const c = await start({ port: 0, db: ':memory:', adminToken: TOKEN, automation: false, ...options });
  running.push(c);
  return c;
};
afterEach(async () => {
  for (const c of running) await c.close();
  running = [];
});

/** A raw connection that records what the server sends and when it closes. */
const rawSocket = async (port: number) => {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail));
  const state = { data: '', closed: false, closedAt: 0 };
  socket.on('data', (d: Buffer) => (state.data += d.toString('latin1')));
  socket.on('error', () => undefined); // a reset after the answer is what these tests provoke
  socket.on('close', () => {
    state.closed = true;
    state.closedAt = performance.now();
  });
  return { socket, state };
};

/** Waits until the socket can take more, or is closed (listeners removed either way). */
const drained = (socket: Socket) =>
  new Promise<void>((go) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      go();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });

describe('a 50 MB body (item 1)', () => {
  it('is refused with 413 on /login and /collect while the RSS stays flat', async () => {
    const c = await collector();
    const rss: number[] = [];
    for (const [path, type] of [
      ['/login', 'application/x-www-form-urlencoded'],
      ['/collect', 'text/plain'],
      ['/sites/demo/settings/site', 'application/x-www-form-urlencoded'],
    ] as const) {
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const { socket, state } = await rawSocket(c.port);
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${c.port}\r\nOrigin: http://127.0.0.1:${c.port}\r\nContent-Type: ${type}\r\n` +
          'Transfer-Encoding: chunked\r\n\r\n',
      );
      // 50 MB in chunked encoding: no Content-Length to refuse up front, so the server must stop reading itself.
      const piece = Buffer.alloc(1024 * 1024, 0x78);
      for (let i = 0; i < 50 && !socket.destroyed && !state.data.includes('\r\n\r\n'); i++) {
        socket.write(`${piece.length.toString(16)}\r\n`);
        socket.write(piece);
        const ok = socket.write('\r\n');
        if (!ok) await drained(socket);
      }
      await waitFor(() => state.data.includes('\r\n\r\n'), { what: `the answer to ${path}` });
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(state.data)?.[1]);
      // /sites/… without a session: a redirect to the sign-in page, the body never read.
      expect(status, path).toBe(path.startsWith('/sites') ? 303 : 413);
      expect(state.data.toLowerCase()).toContain('connection: close');
      socket.destroy();
      clearInterval(sampler);
      rss.push((Math.max(peak, process.memoryUsage().rss) - before) / 1048576);
    }
    console.log(`[sockets] peak RSS growth per 50 MB body (MB): ${rss.map((r) => r.toFixed(1)).join(', ')}`);
    // Before: parseBody read all of it, +135 MB peak RSS for these 50 MB on /login (+875 MB for 200 MB in the review).
    for (const r of rss) expect(r).toBeLessThan(40);
  });
});

describe('answers before the body was read', () => {
  it('say Connection: close, and a keep-alive client’s next request succeeds', async () => {
    const c = await collector();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, body: Buffer | null, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
        (ok, fail) => {
          const req = httpRequest(
            { host: '127.0.0.1', port: c.port, path, method: body ? 'POST' : 'GET', agent, headers },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
            },
          );
          req.on('error', fail);
          if (body) req.end(body);
          else req.end();
        },
      );
    const big = Buffer.alloc(2 * 1024 * 1024, 0x78);
    try {
      for (let round = 0; round < 5; round++) {
        // Refused before a byte of the body is read (Content-Length above the limit)…
        const refused = await send('/collect', big, {
          'Content-Type': 'text/plain',
          'Content-Length': String(big.length),
        });
        expect(refused.status).toBe(413);
        expect(refused.headers.connection).toBe('close');
        // …and the next request on the same agent gets its answer, no reset.
        const next = await send('/login', null);
        expect(next.status).toBe(200);
        // Read to the end (a 400 for a bad body): the connection is kept.
        const bad = Buffer.from('{"site":');
        const read = await send('/collect', bad, {
          'Content-Type': 'text/plain',
          'Content-Length': String(bad.length),
        });
        expect(read.status).toBe(400);
        expect(read.headers.connection).toBe('keep-alive');
      }
    } finally {
      agent.destroy();
    }
  });

  it('closes a connection refused mid-body (413 on a gzip bomb) after the answer', async () => {
    const c = await collector();
    const { gzipSync } = await import('node:zlib');
    const member = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 20 }, () => member));
    const { socket, state } = await rawSocket(c.port);
    socket.write(
      `POST /collect HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`,
    );
    socket.write(bomb);
    await waitFor(() => state.closed, { what: 'the server closing the connection' });
    expect(state.data).toMatch(/^HTTP\/1\.1 413 /);
    expect(state.data.toLowerCase()).toContain('connection: close');
  });
});

describe('slow and numerous clients (item 9)', () => {
  it('sets the timeouts and the connection cap deliberately by default', async () => {
    const c = await collector();
    expect(SERVER_LIMITS).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 1024,
    });
    expect(c.server.headersTimeout).toBe(10_000);
    expect(c.server.requestTimeout).toBe(30_000);
    expect(c.server.keepAliveTimeout).toBe(5_000);
    expect(c.server.maxConnections).toBe(1024);
  });

  const limits = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300, maxConnections: 3 };

  it('cuts off a client trickling its headers, and one trickling its body', async () => {
    const c = await collector({ limits });
    const trickle = async (head: string) => {
      const { socket, state } = await rawSocket(c.port);
      const t0 = performance.now();
      socket.write(head);
      const timer = setInterval(() => !socket.destroyed && socket.write('x'), 50);
      try {
        await waitFor(() => state.closed, { timeoutMs: 5000, what: 'the server closing the slow connection' });
      } finally {
        clearInterval(timer);
      }
      return { ms: state.closedAt - t0, data: state.data };
    };
    const headers = await trickle('POST /collect HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // Bounded by the timeouts (plus Node's check interval), where Node's defaults held such clients for minutes.
    expect(headers.ms).toBeLessThan(3000);
    expect(headers.data).toMatch(/^HTTP\/1\.1 408 /);
    const body = await trickle(
      'POST /collect HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n',
    );
    expect(body.ms).toBeLessThan(3000);
  });

  it('closes an idle keep-alive connection, and refuses connections beyond the cap', async () => {
    const c = await collector({ limits });
    const { socket, state } = await rawSocket(c.port);
    const t0 = performance.now();
    socket.write('GET /login HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => state.closed, { timeoutMs: 5000, what: 'the idle connection closed' });
    expect(state.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(state.closedAt - t0).toBeLessThan(3000); // keepAliveTimeout plus Node's grace second; the default is 5 s

    const open = await Promise.all([1, 2, 3].map(() => rawSocket(c.port)));
    const extra = await rawSocket(c.port);
    await waitFor(() => extra.state.closed, { what: 'the connection beyond the cap refused' });
    expect(extra.state.data).toBe('');
    for (const o of open) expect(o.state.closed).toBe(false);
    open[0]!.socket.write('GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => open[0]!.state.closed, { what: 'an answer within the cap' });
    expect(open[0]!.state.data).toMatch(/^HTTP\/1\.1 200 /);
    for (const o of open) o.socket.destroy();
  });
});

describe('the admin token (item 4)', () => {
  it('refuses a token under 24 characters, or one Bearer cannot carry, at start', async () => {
    await expect(start({ port: 0, db: ':memory:', adminToken: 'short-token', automation: false })).rejects.toThrow(
      /at least 24 characters.*it has 11.*openssl rand -hex 24/,
    );
    await expect(
      start({ port: 0, db: ':memory:', adminToken: 'a token with spaces in it, 40 chars', automation: false }),
    ).rejects.toThrow(/A-Z a-z 0-9/);
    const generated = await collector({ adminToken: undefined });
    expect(generated.token).toMatch(/^[0-9a-f]{48}$/);
  });
});
