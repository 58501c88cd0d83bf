// Where a pool keeps its state. One root ($DSCHED_HOME) holds everything, so pools never see each other.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface PoolPaths {
  home: string;
  config: string;
  secret: string;
  run: string;
  log: string;
  spool: string;
  execute: string;
  authDir: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DSCHED_HOME) return resolve(env.DSCHED_HOME);
  return join(homedir(), '.dsched');
}

export function poolPaths(home: string = resolveHome()): PoolPaths {
  const run = join(home, 'run');
  return {
    home,
    config: join(home, 'config'),
    secret: join(home, 'secret'),
    run,
    log: join(home, 'log'),
    spool: join(home, 'spool'),
    execute: join(home, 'execute'),
    authDir: join(run, 'auth'),
  };
}

export function addressFile(paths: PoolPaths, daemon: string): string {
  return join(paths.run, `${daemon}.address`);
}
