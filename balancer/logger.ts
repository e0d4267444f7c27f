import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout. Expected events (a refused registration, a dead worker) are info/warn lines, never stack traces. */
export function createLogger(level: string, name = 'balancer'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
