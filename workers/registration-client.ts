import axios from 'axios';
import type { Logger } from 'pino';
import { SIGNATURE_HEADER, signedPayload } from '../utils/auth';

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
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Keeps this worker registered: retries with exponential backoff and full jitter until the balancer
 * answers (so start order does not matter), then re-registers every heartbeat (so a restarted balancer
 * rebuilds its registry), and deregisters on stop. Each attempt is freshly signed with a new nonce.
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
      const status = await this.send(deregisterUrl, { url: this.opts.url, name: this.opts.name });
      this.opts.log.info({ status }, 'deregistered from balancer');
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'could not deregister; the balancer will drop this worker when its heartbeat expires');
    }
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    let delay: number;
    try {
      const status = await this.send(this.opts.registerUrl, { url: this.opts.url, name: this.opts.name, weight: this.opts.weight });
      if (status === 200 || status === 201) {
        if (!this.registered || status === 201) this.opts.log.info({ balancer: this.opts.registerUrl, url: this.opts.url, status }, 'registered with balancer');
        this.registered = true;
        this.failures = 0;
        delay = this.opts.heartbeatMs;
      } else {
        delay = this.backoff(`balancer refused registration with ${status}`);
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

  private async send(url: string, fields: Record<string, unknown>): Promise<number> {
    const { body, signature } = signedPayload(fields, this.opts.secret);
    const response = await axios.post(url, body, {
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
      timeout: REQUEST_TIMEOUT_MS,
      // The signature covers these exact bytes, so axios must not re-serialise them.
      transformRequest: [(data: string) => data],
      validateStatus: () => true,
    });
    return response.status;
  }
}
