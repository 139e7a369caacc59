import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** Copies headers without the hop-by-hop ones (and without any in `drop`). */
export function endToEndHeaders(
  headers: IncomingHttpHeaders,
  drop: readonly string[] = [],
): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Forwards requests to one target over HTTP/1.1 with keep-alive. */
export class Forwarder {
  private readonly agent = new Agent({ keepAlive: true });
  private readonly base: URL;

  constructor(target: string) {
    this.base = new URL(target);
  }

  /** Sends `body` with the method, path and headers of `req` and resolves with the target's response. */
  send(req: IncomingMessage, body: Buffer, options: { plainBody?: boolean } = {}): Promise<IncomingMessage> {
    const headers = endToEndHeaders(req.headers, options.plainBody ? ['accept-encoding'] : []);
    headers.host = this.base.host;
    headers['content-length'] = String(body.length);
    const prefix = this.base.pathname === '/' ? '' : this.base.pathname.replace(/\/$/, '');
    return new Promise((resolve, reject) => {
      const upstream = request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method: req.method,
          path: `${prefix}${req.url ?? '/'}`,
          headers,
          agent: this.agent,
        },
        resolve,
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  /** Closes the kept-alive sockets to the target. */
  destroy(): void {
    this.agent.destroy();
  }
}

/** Streams a target response back to the client, status and headers included. */
export function pipeBack(upstream: IncomingMessage, res: ServerResponse): void {
  res.writeHead(upstream.statusCode ?? 502, endToEndHeaders(upstream.headers));
  upstream.pipe(res);
  upstream.on('error', () => res.destroy());
}

/** Reads a whole message body. */
export function readBody(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
  });
}
