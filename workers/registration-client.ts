import axios from 'axios';
import type { Logger } from 'pino';
import { SIGNATURE_HEADER, signedPayload } from '../utils/auth';
import { judgeDeregistration, judgeRegistration } from './balancer-answer';

export interface RegistrationOptions {
  registerUrl: string;
  secret: string;
  /** The address this worker advertises. */
  url: string;
  name: string;
  weight: number;
  heartbeatMs: number;
  log: Logger;
  random?: () => number;
  /** Called once when the balancer refused this worker for good (see balancer-answer.ts); the worker then exits non-zero. */
  onRefused: (reason: string) => void;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Keeps this worker registered: retries with exponential backoff and full jitter until the balancer
 * answers (so start order does not matter), then re-registers every heartbeat (so a restarted balancer
 * rebuilds its registry), and deregisters on stop. Each attempt is freshly signed with a new nonce.
 * Network errors, 5xx and refusals a fresh attempt can pass are retried; an answer that is not the
 * balancer's, or a refusal no retry can fix, stops the heartbeat and goes to onRefused.
 */
export class RegistrationClient {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private registered = false;
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly opts: RegistrationOptions) {
    this.random = opts.random ?? Math.random;
  }

  start(): void {
    void this.attempt();
  }

  /** Stops the heartbeat and tells the balancer to drain this worker; never throws. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const deregisterUrl = new URL('deregister-worker', this.opts.registerUrl).toString();
    try {
      const { status, body } = await this.send(deregisterUrl, { url: this.opts.url, name: this.opts.name });
      const problem = judgeDeregistration(status, body, this.opts.url);
      if (problem === undefined) this.opts.log.info({ status }, 'deregistered from balancer');
      else this.opts.log.warn({ status, reason: problem }, 'could not deregister; the balancer will drop this worker when its heartbeat expires');
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'could not deregister; the balancer will drop this worker when its heartbeat expires');
    }
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    let delay: number;
    try {
      const { status, body } = await this.send(this.opts.registerUrl, { url: this.opts.url, name: this.opts.name, weight: this.opts.weight });
      const judged = judgeRegistration(status, body, this.opts.url);
      if (judged.verdict === 'stop') {
        this.stopped = true;
        this.opts.log.error({ balancer: this.opts.registerUrl, status, reason: judged.reason }, 'registration refused for good; stopping');
        this.opts.onRefused(judged.reason);
        return;
      }
      if (judged.verdict === 'registered') {
        if (!this.registered || status === 201) this.opts.log.info({ balancer: this.opts.registerUrl, url: this.opts.url, status }, 'registered with balancer');
        this.registered = true;
        this.failures = 0;
        delay = this.opts.heartbeatMs;
      } else {
        delay = this.backoff(judged.reason);
      }
    } catch (err) {
      delay = this.backoff((err as Error).message);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.attempt(), delay);
  }

  private backoff(reason: string): number {
    this.failures++;
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.failures - 1));
    const delay = Math.max(50, Math.round(ceiling * this.random()));
    this.opts.log.warn({ attempt: this.failures, retryInMs: delay, reason }, 'registration failed, retrying');
    return delay;
  }

  /** Posts a freshly signed body; the answer's body comes back parsed as JSON, or as text when it is not JSON. */
  private async send(url: string, fields: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const { body, signature } = signedPayload(fields, this.opts.secret);
    const response = await axios.post(url, body, {
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
      timeout: REQUEST_TIMEOUT_MS,
      // The signature covers these exact bytes, so axios must not re-serialise them.
      transformRequest: [(data: string) => data],
      responseType: 'text',
      transformResponse: [(data: string) => data],
      validateStatus: () => true,
    });
    return { status: response.status, body: parseJson(String(response.data ?? '')) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
