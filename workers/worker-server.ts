import 'dotenv/config';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { settingsOrExit } from '../utils/env';
import { advertisedUrl, listenProblem } from '../utils/network';
import { loadWorkerConfig, workerSettings } from './config';
import { RegistrationClient } from './registration-client';
import { createWorkerApp } from './worker-app';

/**
 * Entry point of a worker process: serve, register with the balancer (retrying until it answers), and
 * on SIGTERM deregister, finish in-flight requests and exit; SIGHUP is logged and changes nothing.
 */
async function main(): Promise<void> {
  const config = settingsOrExit('Usage: node dist/workers/worker-server.js   (npm run start:worker)', workerSettings, loadWorkerConfig);
  if (!config) return;
  const log = pino({ name: 'worker', level: config.LOG_LEVEL, base: { worker: config.NAME, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
  let draining = false;
  const server = createServer(createWorkerApp({ name: config.NAME, delayMs: config.WORKER_DELAY_MS, isReady: () => !draining }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = advertisedUrl({ workerUrl: config.WORKER_URL, host: config.HOST, port });
  log.info({ host: config.HOST, port, url }, 'worker listening');

  let registration: RegistrationClient | undefined;
  if (config.LOAD_BALANCER_REGISTER && config.REGISTRATION_SECRET) {
    registration = new RegistrationClient({
      registerUrl: config.LOAD_BALANCER_REGISTER,
      secret: config.REGISTRATION_SECRET,
      url,
      name: config.NAME,
      weight: config.WORKER_WEIGHT,
      heartbeatMs: config.HEARTBEAT_INTERVAL_MS,
      log,
      onRefused: (reason) => {
        process.stderr.write(`worker stopped: ${reason}\n`);
        server.close();
        process.exit(1);
      },
    });
    registration.start();
  } else {
    log.info('LOAD_BALANCER_REGISTER not set: running stand-alone');
  }

  const stop = async (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal }, 'draining');
    setTimeout(() => {
      log.warn('shutdown timeout reached with requests still in flight; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    await registration?.stop();
    // close() waits for in-flight requests; a keep-alive socket that goes idle after its last response
    // would otherwise hold it open until its timeout, so idle sockets are closed as they appear.
    const reaper = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(reaper);
      log.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Node's default would end the worker at once, without deregistering or finishing its requests. A
  // worker has nothing to re-read, so SIGHUP only says so, as the balancer's does; SIGTERM stops it.
  process.on('SIGHUP', () => log.info('SIGHUP: nothing to reload; still serving'));
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed to start: ${listenProblem(err)}\n`);
  process.exit(1);
});
