// The only declaration of every configuration knob (HTCondor's param_info): name, type, default, who reads
// it, whether a change applies live, and what it means. docs/config.md is generated from this table.

export type ParamType = 'string' | 'int' | 'bool' | 'expr' | 'list' | 'size-mb' | 'size-kb';
export type Daemon = 'master' | 'collector' | 'negotiator' | 'schedd' | 'startd' | 'tools';

export interface ParamInfo {
  type: ParamType;
  default: string;
  daemons: Daemon[];
  reload: 'live' | 'restart';
  min?: number;
  max?: number;
  description: string;
}

export const PARAMS = {
  DAEMON_LIST: { type: 'list', default: 'COLLECTOR, NEGOTIATOR, SCHEDD, STARTD', daemons: ['master'], reload: 'restart', description: 'Daemons the master starts on this host.' },
  BIND_ADDRESS: { type: 'string', default: '127.0.0.1', daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master'], reload: 'restart', description: 'Address the daemons listen on (a personal pool stays on loopback).' },
  COLLECTOR_HOST: { type: 'string', default: '', daemons: ['negotiator', 'schedd', 'startd', 'tools', 'master'], reload: 'live', description: 'host:port of the pool collector; empty = this host at COLLECTOR_PORT.' },
  COLLECTOR_PORT: { type: 'int', default: '0', daemons: ['collector'], reload: 'restart', min: 0, max: 65535, description: 'Collector port; 0 = choose a free port on first start and record it in the home config.' },
  SCHEDD_PORT: { type: 'int', default: '0', daemons: ['schedd'], reload: 'restart', min: 0, max: 65535, description: 'Schedd port; 0 = choose a free port on first start and record it (startds reconnect to it after a restart).' },
  NEGOTIATOR_PORT: { type: 'int', default: '0', daemons: ['negotiator'], reload: 'restart', min: 0, max: 65535, description: 'Negotiator port; 0 = any free port.' },
  STARTD_PORT: { type: 'int', default: '0', daemons: ['startd'], reload: 'restart', min: 0, max: 65535, description: 'Startd port; 0 = any free port.' },
  MASTER_PORT: { type: 'int', default: '0', daemons: ['master'], reload: 'restart', min: 0, max: 65535, description: 'Master port; 0 = any free port.' },
  HOSTNAME: { type: 'string', default: '', daemons: ['schedd', 'startd', 'tools'], reload: 'restart', description: 'Host name this host advertises; empty = os.hostname().' },
  SCHEDD_NAME: { type: 'string', default: '', daemons: ['schedd', 'tools'], reload: 'restart', description: 'Unique schedd name in the pool; empty = the host name.' },
  STARTD_NAME: { type: 'string', default: '', daemons: ['startd'], reload: 'restart', description: 'Unique startd name in the pool; slots are slotN@STARTD_NAME. Empty = the host name.' },
  NUM_CPUS: { type: 'int', default: '0', daemons: ['startd'], reload: 'restart', min: 0, max: 1_000_000, description: 'CPUs the startd offers; 0 = detect.' },
  MEMORY: { type: 'size-mb', default: '0', daemons: ['startd'], reload: 'restart', min: 0, description: 'Memory in MB the startd offers; 0 = detect.' },
  DISK: { type: 'size-kb', default: '0', daemons: ['startd'], reload: 'restart', min: 0, description: 'Disk in KB the startd offers; 0 = detect free space of EXECUTE.' },
  START: { type: 'expr', default: 'TRUE', daemons: ['startd'], reload: 'live', description: 'Machine policy: a job may start on this machine only when START is true against it.' },
  STARTD_ATTRS: { type: 'string', default: '', daemons: ['startd'], reload: 'live', description: 'Extra `Name = expr` attributes for slot ads, separated by `;`.' },
  UPDATE_INTERVAL: { type: 'int', default: '60', daemons: ['schedd', 'startd', 'negotiator', 'master'], reload: 'live', min: 1, description: 'Seconds between periodic ad updates to the collector (changes are also sent at once).' },
  CLASSAD_LIFETIME: { type: 'int', default: '0', daemons: ['collector'], reload: 'live', min: 0, description: 'Seconds an ad lives without an update; 0 = 3 × UPDATE_INTERVAL of its daemon.' },
  NEGOTIATOR_INTERVAL: { type: 'int', default: '60', daemons: ['negotiator'], reload: 'live', min: 1, description: 'Fallback seconds between negotiation cycles; cycles normally run on events.' },
  NEGOTIATOR_CYCLE_DELAY_MS: { type: 'int', default: '5', daemons: ['negotiator'], reload: 'live', min: 0, description: 'Milliseconds to gather events before a triggered cycle.' },
  NEGOTIATOR_MIN_INTERVAL_MS: { type: 'int', default: '50', daemons: ['negotiator'], reload: 'live', min: 0, description: 'Least milliseconds between the end of one cycle and the start of the next on a busy pool.' },
  CONCURRENCY_LIMIT_DEFAULT: { type: 'string', default: '', daemons: ['negotiator'], reload: 'live', description: 'Pool-wide limit for a concurrency limit name without its own NAME_LIMIT knob; empty = unlimited.' },
  JOB_LEASE_DURATION: { type: 'int', default: '300', daemons: ['schedd', 'startd'], reload: 'live', min: 5, description: 'Seconds a startd keeps running a job without hearing from its schedd.' },
  KILL_GRACE: { type: 'int', default: '10', daemons: ['startd'], reload: 'live', min: 0, description: 'Default seconds between the soft kill signal and SIGKILL (job_max_vacate_time overrides).' },
  PERIODIC_EXPR_INTERVAL: { type: 'int', default: '60', daemons: ['schedd'], reload: 'restart', min: 1, description: 'Seconds between evaluations of periodic_hold/release/remove and allowed_job_duration (walltime).' },
  MAIL: { type: 'string', default: '/usr/bin/mail', daemons: ['schedd'], reload: 'live', description: 'Command that sends job mail: run as `MAIL -s SUBJECT ADDRESS` with the message on stdin.' },
  QUEUE_SUPER_USERS: { type: 'list', default: 'root', daemons: ['schedd'], reload: 'live', description: 'Users who may act on any job (the pool owner is always one).' },
  MAX_JOBS_PER_SUBMISSION: { type: 'int', default: '1000000', daemons: ['schedd', 'tools'], reload: 'live', min: 1, description: 'Largest number of procs one submission may queue.' },
  MAX_HISTORY_JOBS: { type: 'int', default: '100000', daemons: ['schedd'], reload: 'live', min: 0, description: 'Finished jobs kept in history.' },
  RESTART_BACKOFF_MAX: { type: 'int', default: '30', daemons: ['master'], reload: 'live', min: 1, description: 'Most seconds the master waits before restarting a daemon that keeps dying.' },
  AUTH_DIR: { type: 'string', default: '', daemons: ['schedd'], reload: 'restart', description: 'World-writable sticky directory for the file-ownership challenge; empty = $DSCHED_HOME/run/auth.' },
} satisfies Record<string, ParamInfo>;

export type ParamName = keyof typeof PARAMS;
