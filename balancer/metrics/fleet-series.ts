import type { WorkerRegistry } from '../registry';
import { DEREGISTRATION_OUTCOMES, GATEWAY_ANSWER_REASONS, GATEWAY_ANSWER_STATUS, REGISTRATION_OUTCOMES, type GatewayStats } from '../stats/gateway-stats';
import { WORKER_STATES } from '../worker-state';
import { label, type ExpositionWriter } from './exposition';
import type { WorkerRow } from './worker-series';

/** What the fleet-wide families read, besides the workers. */
export interface FleetReading {
  readonly registry: WorkerRegistry;
  readonly gateway: GatewayStats;
  readonly clientConnectionsOpen: number;
}

/** The balancer's own families: its workers counted, its own answers, the control plane, its client side. */
export function writeFleetSeries(out: ExpositionWriter, rows: readonly WorkerRow[], fleet: FleetReading): void {
  const { registry, gateway } = fleet;
  let inRotation = 0;
  const inState = new Map(WORKER_STATES.map((s) => [s, 0]));
  for (const r of rows) {
    if (r.w.inRotation) inRotation++;
    inState.set(r.state, inState.get(r.state)! + 1);
  }
  out.family('lb_workers_registered', 'gauge', 'Workers registered now.');
  out.sample('lb_workers_registered', '', rows.length);
  out.family('lb_workers_in_rotation', 'gauge', 'Workers the strategy may pick now.');
  out.sample('lb_workers_in_rotation', '', inRotation);
  out.family('lb_workers_in_state', 'gauge', 'Workers registered now, by state.');
  for (const [state, n] of inState) out.sample('lb_workers_in_state', label('state', state), n);
  out.family('lb_panic_mode', 'gauge', '1 while too few workers are left un-ejected and ejections are ignored (PANIC_THRESHOLD_PERCENT).');
  out.sample('lb_panic_mode', '', registry.inPanic ? 1 : 0);

  out.family('lb_gateway_answers_total', 'counter', 'Requests the gateway answered itself instead of a worker, by reason.');
  for (const reason of GATEWAY_ANSWER_REASONS) {
    out.sample('lb_gateway_answers_total', `${label('reason', reason)},${label('status', String(GATEWAY_ANSWER_STATUS[reason]))}`, gateway.answers[reason]);
  }
  out.family('lb_registrations_total', 'counter', 'POST /register-worker requests, by outcome: created, refreshed (a heartbeat), or why it was refused.');
  for (const outcome of REGISTRATION_OUTCOMES) out.sample('lb_registrations_total', label('outcome', outcome), gateway.registrations[outcome]);
  out.family('lb_deregistrations_total', 'counter', 'POST /deregister-worker requests, by outcome.');
  for (const outcome of DEREGISTRATION_OUTCOMES) out.sample('lb_deregistrations_total', label('outcome', outcome), gateway.deregistrations[outcome]);
  out.family('lb_registration_expirations_total', 'counter', 'Workers dropped because they stopped re-registering (REGISTRATION_TTL_MS).');
  out.sample('lb_registration_expirations_total', '', gateway.expirations);

  out.family('lb_client_connections_open', 'gauge', 'Client connections open now (counted against MAX_CLIENT_CONNECTIONS).');
  out.sample('lb_client_connections_open', '', fleet.clientConnectionsOpen);
  out.family('lb_client_connections_refused_total', 'counter', 'Client connections closed unanswered at MAX_CLIENT_CONNECTIONS.');
  out.sample('lb_client_connections_refused_total', '', gateway.connectionsRefused);
  out.family('lb_websockets_open', 'gauge', 'Upgraded connections (WebSockets) open now.');
  out.sample('lb_websockets_open', '', gateway.websocketsOpen);
  out.family('lb_websockets_opened_total', 'counter', 'Upgraded connections (WebSockets) opened since start.');
  out.sample('lb_websockets_opened_total', '', gateway.websocketsOpened);
}
