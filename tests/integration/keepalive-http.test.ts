/**
 * The load generator's lean HTTP/1.1 client (scripts/lib/keepalive-http.ts) against a real Node HTTP
 * server on loopback: answers framed by Content-Length, chunked and by the close; many requests over one
 * connection; a server that closes the connection (Connection: close, idle timeout) is reconnected; a
 * silent server times out.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeepAliveConnection } from '../../scripts/lib/keepalive-http';

describe('KeepAliveConnection', () => {
  let server: http.Server;
  let port: number;
  const connectionsSeen = new Set<unknown>();
  let bodiesSeen: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      connectionsSeen.add(req.socket);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodiesSeen.push(Buffer.concat(chunks).toString());
        switch (req.url) {
          case '/length':
            res.writeHead(200, { 'content-length': '2' }).end('ok');
            break;
          case '/chunked':
            res.writeHead(503);
            res.write('first part, ');
            setImmediate(() => res.end('second part'));
            break;
          case '/close':
            res.writeHead(401, { connection: 'close', 'content-length': '4' }).end('nope');
            break;
          case '/silent':
            break;
          default:
            res.writeHead(404, { 'content-length': '0' }).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    connectionsSeen.clear();
    bodiesSeen = [];
  });

  const head = (path: string, body: Buffer) => `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`;
  const body = (s: string) => Buffer.from(s);

  it('sends many requests over one connection, each answer framed by its Content-Length', async () => {
    const conn = new KeepAliveConnection({ host: '127.0.0.1', port, timeoutMs: 5000 });
    for (let i = 0; i < 20; i += 1) {
      const r = await conn.request(head('/length', body(`b${i}`)), body(`b${i}`));
      expect(r).toEqual({ status: 200, body: Buffer.from('ok') });
    }
    expect(bodiesSeen).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));
    expect(connectionsSeen.size).toBe(1);
    conn.close();
  });

  it('reads a chunked answer to its end and keeps the connection', async () => {
    const conn = new KeepAliveConnection({ host: '127.0.0.1', port, timeoutMs: 5000 });
    const r = await conn.request(head('/chunked', body('x')), body('x'));
    expect(r.status).toBe(503);
    expect(r.body.toString()).toBe('first part, second part');
    expect((await conn.request(head('/length', body('y')), body('y'))).status).toBe(200);
    expect(connectionsSeen.size).toBe(1);
    conn.close();
  });

  it('reconnects after the server closed the connection', async () => {
    const conn = new KeepAliveConnection({ host: '127.0.0.1', port, timeoutMs: 5000 });
    expect(await conn.request(head('/close', body('a')), body('a'))).toEqual({ status: 401, body: Buffer.from('nope') });
    expect((await conn.request(head('/length', body('b')), body('b'))).status).toBe(200);
    expect(connectionsSeen.size).toBe(2);
    conn.close();
  });

  it('fails a request the server never answers with a timeout, and works again afterwards', async () => {
    const conn = new KeepAliveConnection({ host: '127.0.0.1', port, timeoutMs: 200 });
    await expect(conn.request(head('/silent', body('s')), body('s'))).rejects.toMatchObject({ code: 'timeout' });
    expect((await conn.request(head('/length', body('t')), body('t'))).status).toBe(200);
    conn.close();
  });

  it('fails with the socket error when nothing listens', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const conn = new KeepAliveConnection({ host: '127.0.0.1', port: deadPort, timeoutMs: 5000 });
    await expect(conn.request(head('/length', body('z')), body('z'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
