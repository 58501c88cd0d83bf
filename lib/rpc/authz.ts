// Who may call what: one table of every RPC and the level it needs, checked by the server before any
// handler runs (HTCondor's authorization levels). A method missing from the table is refused.
// What a table cannot say (whose ad, whose claim) the handlers check with the helpers below.
import { DschedError } from '../errors.js';
import type { DaemonRole, Identity } from './auth.js';

export type Level =
  /** anyone, with no credential (the call carries its own proof: a challenge, a chirp secret, a join token) */
  | 'ANONYMOUS'
  /** any user or daemon of the pool */
  | 'READ'
  /** a user (the schedd still checks that the jobs are theirs) */
  | 'WRITE'
  /** a user whose token says admin */
  | 'ADMINISTRATOR'
  /** any daemon; the handler checks each ad against the daemon's roles and host */
  | 'ADVERTISE'
  | 'ADVERTISE_STARTD'
  | 'ADVERTISE_SCHEDD'
  | 'ADVERTISE_MASTER'
  | 'NEGOTIATOR'
  /** a schedd claiming a startd */
  | 'SCHEDD';

const ROLE_OF: Partial<Record<Level, DaemonRole>> = {
  ADVERTISE_STARTD: 'startd',
  ADVERTISE_SCHEDD: 'schedd',
  ADVERTISE_MASTER: 'master',
  NEGOTIATOR: 'negotiator',
  SCHEDD: 'schedd',
};

/** `Service.Method` → the levels that may call it (any one suffices). Every rpc of proto/ has a row. */
export const AUTHORIZATION: Readonly<Record<string, readonly Level[]>> = {
  'Collector.Advertise': ['ADVERTISE'],
  'Collector.Invalidate': ['ADVERTISE'],
  'Collector.Query': ['READ'],
  'Collector.Watch': ['READ'],
  'Collector.Join': ['ANONYMOUS'],
  'Collector.Revoke': ['ADMINISTRATOR'],
  'Collector.CreateJoinToken': ['ADMINISTRATOR'],
  'Master.Status': ['READ'],
  'Master.Shutdown': ['ADMINISTRATOR'],
  'Master.Reconfig': ['ADMINISTRATOR'],
  'Master.StartDaemon': ['ADMINISTRATOR'],
  'Negotiator.GetPriorities': ['READ'],
  'Negotiator.Reschedule': ['WRITE'],
  'Negotiator.SetFactor': ['ADMINISTRATOR'],
  'Schedd.BeginAuth': ['ANONYMOUS'],
  'Schedd.FinishAuth': ['ANONYMOUS'],
  'Schedd.NewCluster': ['WRITE'],
  'Schedd.Submit': ['WRITE'],
  'Schedd.SubmitPieces': ['WRITE'],
  'Schedd.Act': ['WRITE'],
  'Schedd.Edit': ['WRITE'],
  'Schedd.Query': ['READ'],
  'Schedd.QueryJobs': ['READ'],
  'Schedd.QueryAutoclusters': ['READ'],
  'Schedd.WatchJobs': ['READ'],
  'Schedd.GetIdleAutoclusters': ['NEGOTIATOR'],
  'Schedd.Matched': ['NEGOTIATOR'],
  'Schedd.JobEvents': ['ADVERTISE_STARTD'],
  'Schedd.FetchInput': ['ADVERTISE_STARTD'],
  'Startd.RequestClaim': ['SCHEDD'],
  'Startd.ActivateClaim': ['SCHEDD'],
  'Startd.ActivateClaims': ['SCHEDD'],
  'Startd.DeactivateClaim': ['SCHEDD'],
  'Startd.ReleaseClaim': ['SCHEDD'],
  'Startd.RenewLeases': ['SCHEDD'],
  'Startd.ClaimStatus': ['SCHEDD'],
  'Startd.FetchOutput': ['SCHEDD'],
  'Startd.Drain': ['ADMINISTRATOR'],
  'Startd.Vacate': ['NEGOTIATOR', 'ADMINISTRATOR'],
  'Startd.Chirp': ['ANONYMOUS'],
  'Startd.RunRank': ['ANONYMOUS'],
  'Startd.TailJob': ['WRITE'],
  // the standard health service of every daemon: a status is no secret and probes carry no credential; a
  // watch holds a stream open, so only the pool's users and daemons may
  'Health.Check': ['ANONYMOUS'],
  'Health.Watch': ['READ'],
};

/** `/dsched.v1.Collector/Advertise` (a service definition's path) → `Collector.Advertise`. */
export function methodName(path: string): string {
  const m = /^\/(?:[\w.]+\.)?(\w+)\/(\w+)$/.exec(path);
  return m ? `${m[1]}.${m[2]}` : path;
}

export function levelsOf(method: string): readonly Level[] | undefined {
  return Object.hasOwn(AUTHORIZATION, method) ? AUTHORIZATION[method] : undefined;
}

/** Methods anyone may call without a credential: no token is looked at for them. */
export function isAnonymous(method: string): boolean {
  return levelsOf(method)?.includes('ANONYMOUS') ?? false;
}

export function hasLevel(identity: Identity, level: Level): boolean {
  switch (level) {
    case 'ANONYMOUS':
      return true;
    case 'READ':
      return identity.kind === 'user' || identity.kind === 'daemon';
    case 'WRITE':
      return identity.kind === 'user';
    case 'ADMINISTRATOR':
      return identity.kind === 'user' && identity.admin;
    case 'ADVERTISE':
      return identity.kind === 'daemon' && identity.roles.size > 0;
    default:
      return identity.kind === 'daemon' && identity.roles.has(ROLE_OF[level]!);
  }
}

function describe(identity: Identity): string {
  if (identity.kind === 'daemon') return `the daemon ${identity.name}`;
  if (identity.kind === 'user') return `user ${identity.name}${identity.admin ? ' (admin)' : ''}`;
  return 'an anonymous caller';
}

const LEVEL_WORDS: Record<Level, string> = {
  ANONYMOUS: 'anyone',
  READ: 'a user or daemon of the pool',
  WRITE: 'a user',
  ADMINISTRATOR: 'a pool admin',
  ADVERTISE: 'a pool daemon',
  ADVERTISE_STARTD: 'a startd',
  ADVERTISE_SCHEDD: 'a schedd',
  ADVERTISE_MASTER: 'a master',
  NEGOTIATOR: 'the negotiator',
  SCHEDD: 'a schedd',
};

/**
 * Refuse the call unless `identity` has one of the method's levels: PERMISSION_DENIED (a method not in
 * the table is always refused), UNAUTHENTICATED for an anonymous caller of a method that needs someone.
 */
export function authorize(method: string, identity: Identity): void {
  const levels = levelsOf(method);
  if (!levels) throw new DschedError('PERMISSION_DENIED', `${method} is not in the authorization table: refused`);
  if (levels.some((l) => hasLevel(identity, l))) return;
  const who = levels.map((l) => LEVEL_WORDS[l]).join(' or ');
  if (identity.kind === 'anonymous')
    throw new DschedError('UNAUTHENTICATED', `${method} needs ${who}, and the call carried no credential`);
  const admin = levels.includes('ADMINISTRATOR');
  throw new DschedError('PERMISSION_DENIED', `${method} may be called only by ${who}, not by ${describe(identity)}`, {
    hint: admin
      ? "only the pool's admins may do this: its owner, root, and the users of QUEUE_SUPER_USERS (ask one of them)"
      : 'pool daemons and users have different rights; see docs/security.md',
  });
}

// ---- names bound to hosts: what the handlers check beyond the table ----

/** Host names compare without case (DNS). */
export function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The host part of a daemon or slot name: what follows its last `@` (a bare name is a host name). */
export function hostOfName(name: string): string {
  const at = name.lastIndexOf('@');
  return at < 0 ? name : name.slice(at + 1);
}

/**
 * A daemon's name in the pool from its configured STARTD_NAME/SCHEDD_NAME: the host name when unset, and
 * `NAME@host` for a name that does not end in this host (as HTCondor qualifies it), so every name says
 * which host it belongs to and no host can take another's.
 */
export function qualifiedName(configured: string, host: string): string {
  if (!configured) return host;
  if (configured.includes('@') || sameHost(configured, host)) return configured;
  return `${configured}@${host}`;
}

/** The role a daemon must have to advertise (or invalidate) ads of a type; undefined: no one may. */
export function advertiserRole(adType: string): DaemonRole | undefined {
  switch (adType.toLowerCase()) {
    case 'machine':
      return 'startd';
    case 'scheduler':
    case 'submitter':
      return 'schedd';
    case 'negotiator':
      return 'negotiator';
    case 'master':
      return 'master';
    default:
      return undefined;
  }
}

/** The caller's host, for a daemon; a PERMISSION_DENIED for anyone else (the table let only daemons in). */
export function daemonHost(identity: Identity): string {
  if (identity.kind !== 'daemon') throw new DschedError('PERMISSION_DENIED', 'only a pool daemon may make this call');
  return identity.host;
}
