// Execute hosts made of Linux network namespaces on this machine, plugged into an existing bridge (`br0` in
// the namespace PROVISIONER_NETNS_SWITCH, as the multi-host test pool makes it): for tests and demos of an
// elastic pool without a cloud or a batch system. Each host gets a namespace, a veth cable to the bridge, an
// address on PROVISIONER_NETNS_SUBNET, its own DSCHED_HOME under spool/provisioned/, joins with its join
// token (`dsched join`, its key made there) and runs one startd in the namespace.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nowSeconds } from '../../lib/time.js';
import { hostConfigLines, type HostHandle, type JoinSpec, type Provider } from './provider.js';

export interface NetnsOptions {
  /** Where the hosts' homes go (spool/provisioned). */
  dir: string;
  switchNs: string;
  /** The first three octets of the /24 the bridge serves. */
  subnet: string;
  /** Host addresses are taken from .first up. */
  first: number;
  /** Names of namespaces (and hosts) start with it. */
  prefix: string;
  /** `node dsched.js` */
  dsched: string[];
  hostConfig: string;
}

interface NetnsHandle extends HostHandle {
  address: string;
  home: string;
}

function ip(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr || r.error?.message || '').trim() };
}

function mustIp(args: string[]): void {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')} failed: ${r.err}`);
}

const nsPids = (ns: string) =>
  ip(['netns', 'pids', ns])
    .out.split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => p > 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class NetnsProvider implements Provider {
  readonly name = 'netns';
  constructor(private o: NetnsOptions) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  }

  private handles(): NetnsHandle[] {
    const out: NetnsHandle[] = [];
    for (const e of readdirSync(this.o.dir)) {
      try {
        out.push(JSON.parse(readFileSync(join(this.o.dir, e, 'handle.json'), 'utf8')) as NetnsHandle);
      } catch {
        /* not a host's home, or one half made */
      }
    }
    return out;
  }

  async start(joins: JoinSpec[]): Promise<HostHandle[]> {
    const out: HostHandle[] = [];
    for (const j of joins) out.push(await this.startOne(j));
    return out;
  }

  private freeAddress(): string {
    const used = new Set(this.handles().map((h) => h.address));
    for (let i = this.o.first; i < 255; i++) if (!used.has(`${this.o.subnet}.${i}`)) return `${this.o.subnet}.${i}`;
    throw new Error(`no free address left on ${this.o.subnet}.0/24 from .${this.o.first}`);
  }

  private async startOne(j: JoinSpec): Promise<NetnsHandle> {
    const tag = randomBytes(3).toString('hex');
    const host = `${this.o.prefix}${tag}`;
    const ns = host;
    const port = `v${tag}`;
    const home = join(this.o.dir, host);
    const h: NetnsHandle = {
      id: ns,
      host,
      provider: this.name,
      started: nowSeconds(),
      address: this.freeAddress(),
      home,
    };
    mkdirSync(home, { mode: 0o755 });
    // the handle first: a half-made host is found and removed by stop()
    writeFileSync(join(home, 'handle.json'), JSON.stringify(h));
    try {
      mustIp(['netns', 'add', ns]);
      mustIp(['-n', ns, 'link', 'set', 'lo', 'up']);
      mustIp(['-n', this.o.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      mustIp(['-n', this.o.switchNs, 'link', 'set', port, 'master', 'br0']);
      mustIp(['-n', this.o.switchNs, 'link', 'set', port, 'up']);
      mustIp(['-n', ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
      mustIp(['-n', ns, 'link', 'set', 'eth0', 'up']);
      const cfg = [
        `HOSTNAME = ${host}`,
        `STARTD_NAME = ${host}`,
        `BIND_ADDRESS = ${h.address}`,
        `COLLECTOR_HOST = ${j.collector}`,
        'DAEMON_LIST = STARTD',
        ...hostConfigLines(this.o.hostConfig),
      ];
      writeFileSync(join(home, 'config'), cfg.join('\n') + '\n');
      const env: NodeJS.ProcessEnv = { ...process.env, DSCHED_HOME: home, DSCHED_CONFIG: '/dev/null' };
      for (const k of Object.keys(env))
        if (k.startsWith('DSCHED_') && k !== 'DSCHED_HOME' && k !== 'DSCHED_CONFIG') delete env[k];
      const [node, ...script] = this.o.dsched;
      const joined = spawnSync('ip', ['netns', 'exec', ns, node!, ...script, 'join', j.collector, j.token], {
        env,
        cwd: home,
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (joined.status !== 0)
        throw new Error(
          `dsched join failed (${joined.status ?? joined.signal}): ${(joined.stderr || joined.stdout || '').trim()}`,
        );
      mkdirSync(join(home, 'log'), { recursive: true });
      const out = openSync(join(home, 'log', 'startd.out'), 'a');
      // detached: the host outlives a restart of the provisioner, which finds it again by its handle
      const child = spawn('ip', ['netns', 'exec', ns, node!, ...script, 'startd'], {
        env,
        cwd: home,
        stdio: ['ignore', out, out],
        detached: true,
      });
      closeSync(out);
      child.on('error', () => {});
      child.unref();
      return h;
    } catch (e) {
      await this.stop(h);
      throw e;
    }
  }

  async stop(handle: HostHandle): Promise<void> {
    const h = this.handles().find((x) => x.id === handle.id) ?? (handle as NetnsHandle);
    const exists = ip(['netns', 'list'])
      .out.split('\n')
      .some((l) => l.split(/\s+/)[0] === h.id);
    if (exists) {
      // SIGTERM: the startd evicts what still runs (the schedd runs it again) and withdraws its ads
      for (const p of nsPids(h.id)) signal(p, 'SIGTERM');
      const deadline = Date.now() + 30_000;
      while (nsPids(h.id).length && Date.now() < deadline) await sleep(100);
      for (let i = 0; i < 50 && nsPids(h.id).length; i++) {
        for (const p of nsPids(h.id)) signal(p, 'SIGKILL');
        await sleep(100);
      }
      ip(['netns', 'del', h.id]); // takes its end of the cable, and so the switch's end, with it
    }
    if (h.home && h.home.startsWith(this.o.dir + '/')) rmSync(h.home, { recursive: true, force: true });
  }

  async list(): Promise<HostHandle[]> {
    const names = new Set(
      ip(['netns', 'list'])
        .out.split('\n')
        .map((l) => l.split(/\s+/)[0]),
    );
    return this.handles().filter((h) => names.has(h.id) && existsSync(h.home));
  }
}

function signal(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}
