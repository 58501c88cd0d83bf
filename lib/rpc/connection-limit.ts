// How many connections a daemon holds, and for whom. Anyone who reaches a daemon's port may open connections
// without a credential, each an open file and a TLS and HTTP/2 session: at the process's open-files limit the
// kernel's accept fails and libuv closes each new connection at once, so one client holding thousands kept every
// user (and the daemons' own calls) from the schedd. Each client may hold at most `perPeer` connections, its
// oldest giving way to its newest, and all clients together at most `total` (under the open-files limit, so the
// daemon keeps files for its own work), the client holding the most giving way to a newcomer: a flood closes
// the flooder's own connections. A connection whose calls carry a daemon's certificate is the pool's own and
// never gives way.
//
// The client is who the connection has proved to be: a connection counts against the host it comes from (a
// remote host: an IPv4 address, an IPv6 /64; or this host, whatever address of its own it connects from, so a
// local user cannot take a part per loopback address) until a call on it carries a user's token, and against
// that user from then on (whatever host: a token is a local account of the schedd's host). Every local user
// shares this host's part, so one of them opening connections without pause closed another's command
// connection within the command; now only the connections that have not yet shown a token share it, and a
// user authenticating many connections fills only their own part. Telling local users apart by the uid
// behind a loopback connection (/proc/net/tcp) took 200 ms with 17,000 sockets open, a cost a flood would have
// made the daemon pay for each connection.
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { budgetHost } from './anonymous-budget.js';

export interface ConnectionLimits {
  /** connections one client (a remote host, or this host) may hold */
  perPeer: number;
  /** connections all clients together may hold; 0: half this process's open-files limit */
  total: number;
}

/** The part of the connections that carry the calls of more than one user. */
const SHARED = 'users sharing a connection';

interface Connection {
  socket: Socket;
  peer: string;
  remote: string;
  daemon: boolean;
  /** the user whose token its calls carried first */
  user?: string;
  /** counted in `held` (until it closes or gives way) */
  open: boolean;
}

/** `address:port` of the client's end, as grpc-js's getConnectionInfo and getPeer name it. */
export function remoteId(address: string | undefined, port: number | undefined): string {
  return `${(address ?? '').replace(/^::ffff:(?=\d+\.)/i, '')}:${port ?? 0}`;
}

/** This host's addresses (read again once a minute: interfaces come and go). */
let own: { at: number; set: Set<string> } | undefined;
function isOwnAddress(address: string): boolean {
  if (/^127\./.test(address) || address === '::1') return true;
  if (!own || Date.now() - own.at > 60_000) {
    const set = new Set<string>();
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) set.add(i.address);
    own = { at: Date.now(), set };
  }
  return own.set.has(address);
}

/** The client a connection from `address` counts against: this host, or a remote host (budgetHost). */
export function clientOf(address: string | undefined): string {
  const a = (address ?? '').replace(/^::ffff:(?=\d+\.)/i, '');
  return isOwnAddress(a) ? 'this host' : budgetHost(a);
}

let lastFileLimit = 4096;

/** Half of this process's open-files limit (its soft RLIMIT_NOFILE), read at each connection (a small file; an
 *  operator may lower the limit with prlimit, and a value kept from before let the daemon run out of files, when
 *  libuv closes every connection waiting to be accepted): the rest is the daemon's own. */
function connectionsForFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) lastFileLimit = Math.max(16, Math.floor(Number(m[1]) / 2));
  } catch {
    /* out of files this moment, or no /proc: the last value read */
  }
  return lastFileLimit;
}

export class ConnectionLimiter {
  /** each client's connections that may give way, oldest first */
  private readonly byPeer = new Map<string, Set<Connection>>();
  private readonly byRemote = new Map<string, Connection>();
  private held = 0;

  /** connections closed for newer ones per client since it was last told (onGiveWay), and when that was */
  private readonly closed = new Map<string, { count: number; told: number }>();

  /** `limits` is read at each connection, so a reconfig applies to the next one. `onGiveWay` is told at most
   *  once a minute per client (a flood closes thousands), with how many of its connections were closed. */
  constructor(
    readonly limits: ConnectionLimits,
    private readonly onGiveWay: (peer: string, why: string, count: number) => void = () => {},
  ) {}

  /** Connections held now, in all or by `peer`. */
  inUse(peer?: string): number {
    return peer === undefined ? this.held : (this.byPeer.get(peer)?.size ?? 0);
  }

  /** Take a new connection, closing another (or this one, when only daemons hold the rest) to stay in bounds;
   *  returns whether it was kept. */
  admit(socket: Socket): boolean {
    const peer = clientOf(socket.remoteAddress);
    const mine = this.byPeer.get(peer);
    if (mine && mine.size >= this.limits.perPeer) this.giveWay(mine, `${peer} holds ${mine.size} connections`);
    if (this.held >= (this.limits.total || connectionsForFileLimit())) {
      let most: Set<Connection> | undefined;
      for (const set of this.byPeer.values()) if (!most || set.size > most.size) most = set;
      if (!most || most.size === 0) {
        socket.destroy();
        return false;
      }
      this.giveWay(most, `all clients hold ${this.held} connections`);
    }
    const c: Connection = {
      socket,
      peer,
      remote: remoteId(socket.remoteAddress, socket.remotePort),
      daemon: false,
      open: true,
    };
    this.byRemote.set(c.remote, c);
    this.held++;
    this.byPeer.set(peer, (this.byPeer.get(peer) ?? new Set()).add(c));
    socket.once('close', () => this.release(c));
    return true;
  }

  /** A connection closed or given way: counted no more (at once, so a burst of newcomers closes no more
   *  than it needs to). */
  private release(c: Connection): void {
    if (!c.open) return;
    c.open = false;
    this.held--;
    if (this.byRemote.get(c.remote) === c) this.byRemote.delete(c.remote);
    const set = this.byPeer.get(c.peer);
    if (set?.delete(c) && set.size === 0) this.byPeer.delete(c.peer);
  }

  /** A call on this connection carried `user`'s token: it counts against that user from now on. One that carries
   *  the calls of several users (the web daemon forwards each caller's token on one connection) counts against
   *  the users' shared part, so no one user, by calling first on it, makes it theirs to close. */
  markUser(remote: string, user: string): void {
    const c = this.byRemote.get(remote);
    if (!c || c.daemon || !c.open || c.user === user || c.peer === SHARED) return;
    const peer = c.user === undefined ? `user ${user}` : SHARED;
    c.user ??= user;
    const from = this.byPeer.get(c.peer);
    if (from?.delete(c) && from.size === 0) this.byPeer.delete(c.peer);
    c.peer = peer;
    const to = (this.byPeer.get(peer) ?? new Set()).add(c);
    this.byPeer.set(peer, to);
    if (to.size > this.limits.perPeer) this.giveWay(to, `${peer} holds ${to.size - 1} connections`);
  }

  /** A call on this connection carried a daemon's certificate: the pool's own connection never gives way. */
  markDaemon(remote: string): void {
    const c = this.byRemote.get(remote);
    if (!c || c.daemon) return;
    c.daemon = true;
    const set = this.byPeer.get(c.peer);
    if (set?.delete(c) && set.size === 0) this.byPeer.delete(c.peer);
  }

  private giveWay(set: Set<Connection>, why: string): void {
    const oldest = set.values().next().value;
    if (!oldest) return;
    this.release(oldest);
    oldest.socket.destroy();
    const now = Date.now();
    const c = this.closed.get(oldest.peer) ?? { count: 0, told: 0 };
    c.count++;
    if (now - c.told >= 60_000) {
      this.onGiveWay(oldest.peer, why, c.count);
      [c.count, c.told] = [0, now];
    }
    this.closed.set(oldest.peer, c);
    if (this.closed.size > 10_000) this.closed.delete(this.closed.keys().next().value!);
  }
}
