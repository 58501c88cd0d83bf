// Who is at the other end of a connection, for the bounds a daemon keeps per client (connections, anonymous
// bytes, authentication challenges). A remote client is known only by its host (budgetHost: an IPv4 address,
// an IPv6 /64). A client on this host is known by its user: every local user shares the loopback address (and
// this host's own addresses), so bounds kept per address let one local user use up what all the others have.
// The kernel lists each TCP socket with the uid that made it in /proc/net/tcp{,6}, as identd reads it: the
// client's socket is the one whose local end is the peer's address and port and whose remote end is ours.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { budgetHost } from './anonymous-budget.js';

export interface Endpoints {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; IPv6 in its shortest form, lower case. */
function canonical(address: string): string {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped ? mapped[1]! : a;
}

/** An address as /proc/net/tcp{,6} writes it (32-bit words in host order, little-endian here) → canonical. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [6, 4, 2, 0].map((i) => parseInt(w.slice(i, i + 2), 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // the shortest form: the longest run of zero groups as `::`
  let best = [-1, 0];
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]! && j - i > 1) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best[0]! < 0) return groups.join(':');
  return `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0]! + best[1]!).join(':')}`;
}

/** This host's addresses: a client from one of them is a process of this host. */
let ownAddresses: { at: number; set: Set<string> } | undefined;
function isOwnAddress(address: string): boolean {
  if (/^127\./.test(address) || address === '::1') return true;
  if (!ownAddresses || Date.now() - ownAddresses.at > 60_000) {
    const set = new Set<string>();
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) set.add(canonical(i.address));
    ownAddresses = { at: Date.now(), set };
  }
  return ownAddresses.set.has(address);
}

/** The socket tables, read at most once per turn of the event loop: connections accepted together share it. */
let tables: string[] | undefined;
function socketTables(): string[] {
  if (!tables) {
    tables = ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => {
      try {
        return readFileSync(f, 'latin1');
      } catch {
        return '';
      }
    });
    setImmediate(() => (tables = undefined));
  }
  return tables;
}

/** The uid of the local process's socket at the other end of this connection, if the peer is on this host. */
export function localPeerUid(c: Endpoints): number | undefined {
  if (!c.remoteAddress || !c.remotePort || !c.localAddress || !c.localPort) return undefined;
  const peer = canonical(c.remoteAddress);
  if (!isOwnAddress(peer)) return undefined;
  const ours = canonical(c.localAddress);
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const peerPort = `:${hex(c.remotePort)} `;
  const ourPort = `:${hex(c.localPort)} `;
  for (const table of socketTables())
    for (const line of table.split('\n')) {
      // sl local rem st tx:rx tr:when retrnsmt uid ...
      const f = line.trim().split(/\s+/);
      if (f.length < 8 || !`${f[1]} `.endsWith(peerPort) || !`${f[2]} `.endsWith(ourPort)) continue;
      const [local, remote] = [f[1]!.split(':')[0]!, f[2]!.split(':')[0]!];
      if (procAddress(local) === peer && procAddress(remote) === ours) return Number(f[7]);
    }
  return undefined;
}

/** The client a bound is kept for: `uid:N` for a local user's process, else its host (budgetHost). Root's
 *  processes (the daemons, root's commands) are counted by address, as a remote host's are: root is trusted
 *  with the pool, and may bind any address anyway. */
export function peerKey(c: Endpoints): string {
  const uid = localPeerUid(c);
  return uid === undefined || uid === 0 ? budgetHost(c.remoteAddress) : `uid:${uid}`;
}
