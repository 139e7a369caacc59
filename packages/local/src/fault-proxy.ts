import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KinesisArchiveError } from '@kinesis-archive/core';
import { FaultCounter, type FaultCounts } from './fault-counts.js';
import { endToEndHeaders, Forwarder, pipeBack, readBody } from './fault-forward.js';
import {
  type PartialPlan,
  parseJsonObject,
  partialApplies,
  planBatchWriteItem,
  planPutRecords,
} from './fault-partial.js';
import {
  type AwsTarget,
  defaultErrorName,
  errorAnswer,
  jsonAnswer,
  jsonHeaders,
  type ProxyAnswer,
  parseTarget,
} from './fault-responses.js';
import { DEFAULT_ENTRY_FAILURE_RATE, FaultPlanner, type FaultRule, validateRules } from './fault-rules.js';
import { seededRandom } from './prng.js';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The stand-in to forward to, e.g. `http://127.0.0.1:4568` (an `http:` URL). */
  target: string;
  /** Seed of the random draws: the same seed and the same requests give the same faults. Default: random. */
  seed?: number;
  /** Fault rules, checked in order for each request. Default: none (a plain proxy). */
  rules?: FaultRule[];
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point an SDK client's `endpoint` at it. */
  readonly endpoint: string;
  /** The seed in use (the given one, or the random one chosen), to replay a run. */
  readonly seed: number;
  /** What the proxy received, forwarded and injected so far (a copy). */
  counts(): FaultCounts;
  /** Replaces the rules from the next request on (their `maxCount` tallies start again). */
  setRules(rules: FaultRule[]): void;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

/** The fault proxy's target is not a usable `http:` URL. */
export class InvalidProxyTargetError extends KinesisArchiveError {
  constructor(target: string) {
    super(
      'INVALID_PROXY_TARGET',
      `the fault proxy target must be an http:// URL, got ${JSON.stringify(target)}`,
      {
        details: { target },
      },
    );
  }
}

function checkTarget(target: string): void {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new InvalidProxyTargetError(target);
  }
  if (url.protocol !== 'http:') throw new InvalidProxyTargetError(target);
}

function send(res: ServerResponse, answer: ProxyAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/**
 * Starts an HTTP/1.1 proxy in front of a local stand-in that injects AWS faults by probability and per operation
 * (read from the `X-Amz-Target` header): throttling and internal errors in the exact AWS JSON error shape, dropped
 * connections, latency, and partial failures of Kinesis `PutRecords` and DynamoDB `BatchWriteItem`.
 *
 * Rules are checked in order with one seeded random sequence: `latency` rules add up, the first other rule that
 * fires decides the request. Requests handled one after the other are therefore reproducible for a seed.
 *
 * @throws {@link InvalidProxyTargetError} for a target that is not an `http:` URL.
 * @throws {@link InvalidFaultRuleError} for a malformed rule.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({
 *   target: aws.endpoints.kinesis!,
 *   seed: 42,
 *   rules: [{ operation: 'PutRecords', fault: 'partial', probability: 0.5, entryFailureRate: 0.2 }],
 * });
 * const { kinesis } = createLocalClients({ region: aws.region, kinesis: proxy.endpoint });
 * // ... run the code under test with `kinesis` ...
 * console.log(proxy.counts().failedEntries);
 * await proxy.stop();
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  checkTarget(options.target);
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const random = seededRandom(seed);
  const planner = new FaultPlanner(random, options.rules ?? []);
  const counter = new FaultCounter();
  const forwarder = new Forwarder(options.target);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const forwardWhole = async (req: IncomingMessage, res: ServerResponse, body: Buffer, target: AwsTarget) => {
    const upstream = await forwarder.send(req, body);
    counter.forwarded(target.operation);
    pipeBack(upstream, res);
  };

  const forwardPartial = async (
    req: IncomingMessage,
    res: ServerResponse,
    plan: PartialPlan,
    target: AwsTarget,
  ) => {
    const countIt = () => counter.injected(target.operation, 'partial', 1, plan.failedEntries);
    if (!plan.forwardBody) {
      countIt();
      send(res, jsonAnswer(target.service, plan.merge(undefined)));
      return;
    }
    const upstream = await forwarder.send(req, plan.forwardBody, { plainBody: true });
    counter.forwarded(target.operation);
    const raw = await readBody(upstream);
    const parsed = upstream.statusCode === 200 ? parseJsonObject(raw) : undefined;
    const merged = parsed ? plan.merge(parsed) : undefined;
    if (!merged) {
      // The stand-in refused the request (or answered oddly): its answer goes back as it is.
      res.writeHead(upstream.statusCode ?? 502, endToEndHeaders(upstream.headers));
      res.end(raw);
      return;
    }
    countIt();
    const body = Buffer.from(JSON.stringify(merged));
    const kept = endToEndHeaders(upstream.headers, ['content-length', 'content-encoding', 'x-amz-crc32']);
    res.writeHead(200, { ...kept, ...jsonHeaders(target.service, body) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const target = parseTarget(req.headers['x-amz-target']);
    const op = target.operation;
    counter.request(op);
    const request = op === 'PutRecords' || op === 'BatchWriteItem' ? parseJsonObject(body) : undefined;
    const decision = planner.decide(op, partialApplies(op, request));
    let plan: PartialPlan | undefined;
    const rule = decision.rule;
    if (rule?.fault === 'partial' && request) {
      const rate = rule.entryFailureRate ?? DEFAULT_ENTRY_FAILURE_RATE;
      plan =
        op === 'PutRecords'
          ? planPutRecords(request, rate, random, rule.errorCode ?? 'ProvisionedThroughputExceededException')
          : planBatchWriteItem(request, rate, random);
    }
    counter.injected(op, 'latency', decision.latencyHits);
    // A partial failure is counted once its answer is built (the stand-in may refuse the forwarded part).
    if (rule && rule.fault !== 'partial') counter.injected(op, rule.fault);
    if (decision.latencyMs > 0) await delay(decision.latencyMs);
    if (stopped) return;
    switch (rule?.fault) {
      case 'drop':
        req.socket.destroy();
        return;
      case 'lost': {
        // carried out upstream, answer thrown away
        const upstream = await forwarder.send(req, body);
        counter.forwarded(op);
        await readBody(upstream);
        req.socket.destroy();
        return;
      }
      case 'throttle':
        send(
          res,
          errorAnswer(
            target.service,
            400,
            rule.errorCode ?? defaultErrorName('throttle', target.service),
            op,
          ),
        );
        return;
      case 'internal':
        send(
          res,
          errorAnswer(
            target.service,
            500,
            rule.errorCode ?? defaultErrorName('internal', target.service),
            op,
          ),
        );
        return;
      default:
        if (plan) await forwardPartial(req, res, plan, target);
        else await forwardWhole(req, res, body, target);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: the target did not answer: ${message}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    seed,
    counts: () => counter.snapshot(),
    setRules: (rules) => planner.setRules(validateRules(rules)),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      forwarder.destroy();
      await closed;
    },
  };
}
