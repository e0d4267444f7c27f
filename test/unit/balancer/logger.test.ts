import { Writable } from 'node:stream';
import pino from 'pino';
import { WorkerRegistry, type WorkerRecord } from '../../../balancer/registry';
import type { WorkerPool } from '../../../balancer/upstream/pool';
import type { Strategy } from '../../../strategies';

/** Every key of one JSON log line, in order, duplicates included (JSON.parse would keep only the last). */
function keysOf(line: string): string[] {
  return [...line.matchAll(/"([A-Za-z_]+)":/g)].map((m) => m[1]);
}

describe('balancer log lines', () => {
  it('never carry two "name" keys: the logger\'s name and a worker\'s are different fields', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ name: 'balancer', level: 'info' }, sink);
    const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => {}, onWorkerDown: () => {} };
    const registry = new WorkerRegistry(strategy, () => ({ close: () => Promise.resolve() }) as unknown as WorkerPool, log);
    registry.register({ url: 'http://127.0.0.1:8081', name: 'worker-1', weight: 1 });
    registry.register({ url: 'http://127.0.0.1:8081', name: 'worker-1', weight: 2 });
    registry.deregister('http://127.0.0.1:8081');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      const keys = keysOf(line);
      expect(keys.filter((k) => k === 'name')).toEqual(['name']);
    }
    expect(JSON.parse(lines[0])).toMatchObject({ name: 'balancer', workerName: 'worker-1', msg: 'worker registered' });
  });
});
