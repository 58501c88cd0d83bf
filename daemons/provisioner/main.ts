// dsched provisioner: grows the pool onto hosts a provider starts when idle jobs match no slot, and retires
// provisioned hosts that stay idle (drain, stop, revoke). A client of the collector and the startds, like
// the web daemon; it runs on the central host, where it reads the pool's token key to act as an admin
// (join tokens, drains, revocations). It serves nothing: run/provisioner.address holds `-` and its pid.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userInfo } from 'node:os';
import { addressFile } from '../../lib/config/paths.js';
import { collectorAddress, daemonContext, onShutdown } from '../../lib/daemon.js';
import { writeAddressFile } from '../../lib/rpc/address-file.js';
import { loadTokenKey, signToken } from '../../lib/rpc/auth.js';
import { CollectorClient } from '../../lib/rpc/clients/collector.js';
import { StartdClient } from '../../lib/rpc/clients/startd.js';
import { cliTls, type ClientCredentials } from '../../lib/rpc/tls.js';
import { NetnsProvider } from './netns.js';
import type { Provider } from './provider.js';
import { Provisioner } from './provisioner.js';
import { KubernetesProvider } from './kubernetes.js';
import { SlurmProvider } from './slurm.js';

const ctx = daemonContext('provisioner');
const { config, log } = ctx;
const here = dirname(fileURLToPath(import.meta.url));

/** `node dsched.js` for the provisioned hosts. */
const dsched = () => {
  const cmd = config.str('PROVISIONER_DSCHED_COMMAND').trim();
  return cmd ? cmd.split(/\s+/) : [process.execPath, join(here, '..', '..', 'cli', 'dsched.js')];
};

function provider(): Provider | undefined {
  const name = config.str('PROVISIONER_PROVIDER').trim().toLowerCase();
  if (name === 'netns')
    return new NetnsProvider({
      dir: join(config.paths.spool, 'provisioned'),
      switchNs: config.str('PROVISIONER_NETNS_SWITCH'),
      subnet: config.str('PROVISIONER_NETNS_SUBNET'),
      first: config.int('PROVISIONER_NETNS_FIRST'),
      prefix: config.str('PROVISIONER_NETNS_PREFIX'),
      dsched: dsched(),
      get hostConfig() {
        return config.str('PROVISIONER_HOST_CONFIG');
      },
    });
  if (name === 'slurm')
    return new SlurmProvider({
      get sbatchArgs() {
        return config.list('PROVISIONER_SLURM_SBATCH_ARGS');
      },
      slurmConf: config.str('PROVISIONER_SLURM_CONF'),
      get pilotDir() {
        return config.str('PROVISIONER_SLURM_PILOT_DIR');
      },
      prefix: config.str('PROVISIONER_SLURM_PREFIX'),
      get dsched() {
        return dsched();
      },
      get hostConfig() {
        return config.str('PROVISIONER_HOST_CONFIG');
      },
    });
  if (name === 'kubernetes')
    return new KubernetesProvider({
      kubeconfig: config.str('PROVISIONER_K8S_KUBECONFIG'),
      namespace: config.str('PROVISIONER_K8S_NAMESPACE'),
      get image() {
        return config.str('PROVISIONER_K8S_IMAGE');
      },
      get podTemplate() {
        return config.str('PROVISIONER_K8S_POD_TEMPLATE');
      },
      prefix: config.str('PROVISIONER_K8S_PREFIX'),
      get hostConfig() {
        return config.str('PROVISIONER_HOST_CONFIG');
      },
    });
  if (name)
    log.error({ provider: name }, 'unknown PROVISIONER_PROVIDER (netns, slurm or kubernetes): provisioning nothing');
  else log.info('PROVISIONER_PROVIDER is empty: provisioning nothing');
  return undefined;
}

// whoever reads the pool's token key is its admin: the provisioner signs its own short-lived admin token
let token = '';
let tokenExpires = 0;
const adminCreds = (): ClientCredentials => ({
  tls: cliTls(config.paths),
  token: () => {
    if (Date.now() / 1000 > tokenExpires - 300) {
      token = signToken(loadTokenKey(config.paths.ca.tokenKey), { user: userInfo().username, admin: true, ttl: 3600 });
      tokenExpires = Date.now() / 1000 + 3600;
    }
    return token;
  },
});

let collector: CollectorClient | undefined;
const collectorClient = () => {
  const addr = collectorAddress(config);
  if (!addr) return undefined;
  if (collector?.rpc.address !== addr) {
    collector?.close();
    collector = new CollectorClient(addr, adminCreds());
  }
  return collector;
};

const p = provider();
const provisioner = p
  ? new Provisioner({
      config,
      log,
      provider: p,
      collector: collectorClient,
      startd: (address, host) => new StartdClient(address, adminCreds(), host),
      joinAddress: () => config.str('PROVISIONER_COLLECTOR') || collectorAddress(config) || '',
    })
  : undefined;

let timer: NodeJS.Timeout | undefined;
let stopping = false;
async function loop() {
  if (stopping) return;
  try {
    await provisioner?.pass();
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'provisioner pass failed; trying again');
  }
  if (!stopping) timer = setTimeout(() => void loop(), config.int('PROVISIONER_INTERVAL') * 1000);
}

writeAddressFile(addressFile(config.paths, 'provisioner'), '-');
log.info(
  { provider: p?.name ?? '', min: config.int('PROVISIONER_MIN_HOSTS'), max: config.int('PROVISIONER_MAX_HOSTS') },
  'provisioner running',
);
void loop();

onShutdown(ctx, async () => {
  // provisioned hosts outlive the provisioner: a new one finds them again in spool/provisioner.json
  stopping = true;
  if (timer) clearTimeout(timer);
  collector?.close();
});
