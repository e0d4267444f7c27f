import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { procStatFields } from './processes';

/**
 * Which process holds which TCP connection, read from /proc (Linux), for the cores suite: the
 * balancer's serving processes are node:cluster children of one primary, and a connection the primary
 * handed to one of them is a socket in that child's descriptor table.
 */

/** The pids whose parent is `pid` (field 4 of /proc/<pid>/stat), in ascending order. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(procStatFields(entry)[1]) === pid) children.push(Number(entry));
    } catch {
      // gone since the listing
    }
  }
  return children.sort((a, b) => a - b);
}

/** Established IPv4 connections whose local port is `port`: each one's remote port and socket inode. */
function establishedOn(port: number): { remotePort: number; inode: string }[] {
  const out: { remotePort: number; inode: string }[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '01') continue; // 01 = ESTABLISHED
    if (parseInt(f[1].split(':')[1], 16) !== port) continue;
    out.push({ remotePort: parseInt(f[2].split(':')[1], 16), inode: f[9] });
  }
  return out;
}

/** The socket inodes in a process's descriptor table. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // closed since the listing
      }
    }
  } catch {
    // the process is gone
  }
  return inodes;
}

/**
 * For the connections to `port` (the balancer's), which of `pids` holds each, keyed by the client's
 * local port (the connection's remote port on the balancer's side). A connection none of them holds
 * is left out.
 */
export function connectionOwners(port: number, pids: readonly number[]): Map<number, number> {
  const held = pids.map((pid) => ({ pid, inodes: socketInodes(pid) }));
  const owners = new Map<number, number>();
  for (const c of establishedOn(port)) {
    const owner = held.find((h) => h.inodes.has(c.inode));
    if (owner !== undefined) owners.set(c.remotePort, owner.pid);
  }
  return owners;
}

/** How many connections to `port` each of `pids` holds now. */
export function connectionsPerProcess(port: number, pids: readonly number[]): Map<number, number> {
  const counts = new Map(pids.map((pid) => [pid, 0]));
  for (const pid of connectionOwners(port, pids).values()) counts.set(pid, (counts.get(pid) ?? 0) + 1);
  return counts;
}

/** Context switches a process has made so far (voluntary + involuntary, /proc/<pid>/status), 0 when it is gone. */
export function contextSwitches(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    let total = 0;
    for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) total += Number(m[1]);
    return total;
  } catch {
    return 0;
  }
}
