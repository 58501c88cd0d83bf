// Where a pool keeps its state. One root ($DSCHED_HOME) holds everything, so pools never see each other.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface PoolPaths {
  home: string;
  config: string;
  /** The pool CA (central host only): ca.crt 0644, ca.key 0600, token.key 0600 (Ed25519), token.pub 0644. */
  ca: { dir: string; cert: string; key: string; tokenKey: string; tokenPub: string };
  /** This host's credential: host.crt, host.key 0600, and copies of ca.crt and token.pub. */
  host: { dir: string; cert: string; key: string; ca: string; tokenPub: string };
  /** Join tokens (hashed), certificates issued and revoked: in the central host's spool. */
  joinTokens: string;
  issued: string;
  revoked: string;
  run: string;
  log: string;
  spool: string;
  /** The schedd's job queue (SQLite, with its -wal and -shm beside it). */
  jobQueue: string;
  /** Written by `dsched start -set-aside-damaged-queue`: the schedd's next start moves a damaged queue aside. */
  setAsideDamagedQueue: string;
  execute: string;
  authDir: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DSCHED_HOME) return resolve(env.DSCHED_HOME);
  return join(homedir(), '.dsched');
}

export function poolPaths(home: string = resolveHome()): PoolPaths {
  const run = join(home, 'run');
  const spool = join(home, 'spool');
  const ca = join(home, 'ca');
  const host = join(home, 'host');
  return {
    home,
    config: join(home, 'config'),
    ca: {
      dir: ca,
      cert: join(ca, 'ca.crt'),
      key: join(ca, 'ca.key'),
      tokenKey: join(ca, 'token.key'),
      tokenPub: join(ca, 'token.pub'),
    },
    host: {
      dir: host,
      cert: join(host, 'host.crt'),
      key: join(host, 'host.key'),
      ca: join(host, 'ca.crt'),
      tokenPub: join(host, 'token.pub'),
    },
    joinTokens: join(spool, 'join-tokens.json'),
    issued: join(spool, 'issued.json'),
    revoked: join(spool, 'revoked.json'),
    run,
    log: join(home, 'log'),
    spool,
    jobQueue: join(spool, 'job_queue.db'),
    setAsideDamagedQueue: join(spool, 'job_queue.db.set-aside'),
    execute: join(home, 'execute'),
    authDir: join(run, 'auth'),
  };
}

export function addressFile(paths: PoolPaths, daemon: string): string {
  return join(paths.run, `${daemon}.address`);
}

/**
 * Written by the startd once the collector has taken its slot ads (removed when it starts): `dsched start`
 * waits for it, so that the machine shows in `dstatus` when the command returns.
 */
export function adsTakenFile(paths: PoolPaths): string {
  return join(paths.run, 'startd.ads-taken');
}
