import { haproxyPeer } from './haproxy';
import { nginxPeer } from './nginx';
import { directPeer, expressAxiosPeer, fastifyPeer, httpProxyPeer, oursAccessLogPeer, oursPeer } from './node-peers';
import type { PeerDef } from './types';

export type { PeerContext, PeerDef, RunningPeer } from './types';

/** Every peer, in report order; ratios are taken against the three named in BASELINES. */
export const PEERS: readonly PeerDef[] = [directPeer, nginxPeer, haproxyPeer, oursPeer, fastifyPeer, httpProxyPeer, expressAxiosPeer];

export const BASELINES = ['nginx', 'fastify', 'express-axios'] as const;

/** Rows run only with the extras (not --no-extras) and only beside "ours", each reported as its ratio to "ours". */
export const OURS_VARIANTS: readonly PeerDef[] = [oursAccessLogPeer];
