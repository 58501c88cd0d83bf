// The only declaration of every configuration knob (HTCondor's param_info): name, type, default, who reads
// it, whether a change applies live, and what it means. docs/config.md is generated from this table.
import { DAEMON_ROLES, type DaemonName } from '../daemons.js';

export type ParamType = 'string' | 'int' | 'bool' | 'expr' | 'list' | 'size-mb' | 'size-kb';
/** Who reads a knob: a daemon, or the command-line tools. */
export type Daemon = DaemonName | 'tools';

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
  DAEMON_LIST: {
    type: 'list',
    default: 'COLLECTOR, NEGOTIATOR, SCHEDD, STARTD, WEB',
    daemons: ['master'],
    reload: 'restart',
    description: 'Daemons the master starts on this host.',
  },
  BIND_ADDRESS: {
    type: 'string',
    default: '127.0.0.1',
    daemons: [...DAEMON_ROLES],
    reload: 'restart',
    description: 'Address the daemons listen on (a personal pool stays on loopback).',
  },
  COLLECTOR_HOST: {
    type: 'string',
    default: '',
    daemons: ['negotiator', 'schedd', 'startd', 'tools', 'master'],
    reload: 'live',
    description: 'host:port of the pool collector; empty = this host at COLLECTOR_PORT.',
  },
  COLLECTOR_PORT: {
    type: 'int',
    default: '0',
    daemons: ['collector'],
    reload: 'restart',
    min: 0,
    max: 65535,
    description: 'Collector port; 0 = choose a free port on first start and record it in the home config.',
  },
  SCHEDD_PORT: {
    type: 'int',
    default: '0',
    daemons: ['schedd'],
    reload: 'restart',
    min: 0,
    max: 65535,
    description:
      'Schedd port; 0 = choose a free port on first start and record it (startds reconnect to it after a restart).',
  },
  NEGOTIATOR_PORT: {
    type: 'int',
    default: '0',
    daemons: ['negotiator'],
    reload: 'restart',
    min: 0,
    max: 65535,
    description: 'Negotiator port; 0 = any free port.',
  },
  STARTD_PORT: {
    type: 'int',
    default: '0',
    daemons: ['startd'],
    reload: 'restart',
    min: 0,
    max: 65535,
    description: 'Startd port; 0 = any free port.',
  },
  MASTER_PORT: {
    type: 'int',
    default: '0',
    daemons: ['master'],
    reload: 'restart',
    min: 0,
    max: 65535,
    description: 'Master port; 0 = any free port.',
  },
  HOSTNAME: {
    type: 'string',
    default: '',
    daemons: ['schedd', 'startd', 'tools'],
    reload: 'restart',
    description: 'Host name this host advertises; empty = os.hostname().',
  },
  SCHEDD_NAME: {
    type: 'string',
    default: '',
    daemons: ['schedd', 'tools'],
    reload: 'restart',
    description:
      'Unique schedd name in the pool; empty = the host name, and NAME@host for a NAME that does not end in this host (the collector takes ads of a host only from that host).',
  },
  STARTD_NAME: {
    type: 'string',
    default: '',
    daemons: ['startd'],
    reload: 'restart',
    description:
      'Unique startd name in the pool; slots are slotN@STARTD_NAME. Empty = the host name, and NAME@host for a NAME that does not end in this host (the collector takes ads of a host only from that host).',
  },
  NUM_CPUS: {
    type: 'int',
    default: '0',
    daemons: ['startd'],
    reload: 'restart',
    min: 0,
    max: 1_000_000,
    description: 'CPUs the startd offers; 0 = detect.',
  },
  MEMORY: {
    type: 'size-mb',
    default: '0',
    daemons: ['startd'],
    reload: 'restart',
    min: 0,
    description: 'Memory in MB the startd offers; 0 = detect.',
  },
  DISK: {
    type: 'size-kb',
    default: '0',
    daemons: ['startd'],
    reload: 'restart',
    min: 0,
    description: 'Disk in KB the startd offers; 0 = detect free space of EXECUTE.',
  },
  START: {
    type: 'expr',
    default: 'TRUE',
    daemons: ['startd'],
    reload: 'live',
    description: 'Machine policy: a job may start on this machine only when START is true against it.',
  },
  STARTD_ATTRS: {
    type: 'string',
    default: '',
    daemons: ['startd'],
    reload: 'live',
    description:
      'Extra slot ad attributes: `Name = expr` parts separated by `;`, or (HTCondor\'s form) a list of names whose values are config macros (`STARTD_ATTRS = Labels` with `Labels = "gpu,learner"`).',
  },
  MACHINE_RESOURCE_NAMES: {
    type: 'list',
    default: '',
    daemons: ['startd'],
    reload: 'restart',
    description:
      'Custom resources are declared with MACHINE_RESOURCE_<name> = a count (`MACHINE_RESOURCE_Licenses = 4`) or a list of ids (`MACHINE_RESOURCE_GPUs = GPU-0a1b, GPU-2c3d`), or MACHINE_RESOURCE_INVENTORY_<name> = a command printing `Detected<name>=…`; when this list is set, only the resources it names are used.',
  },
  STARTD_DETECT_GPUS: {
    type: 'bool',
    default: 'true',
    daemons: ['startd'],
    reload: 'restart',
    description:
      'Ask `nvidia-smi` (when it is on PATH) for the GPUs at start, unless MACHINE_RESOURCE_GPUs or MACHINE_RESOURCE_INVENTORY_GPUs says what they are.',
  },
  UPDATE_INTERVAL: {
    type: 'int',
    default: '60',
    daemons: ['schedd', 'startd', 'negotiator', 'master'],
    reload: 'live',
    min: 1,
    description: 'Seconds between periodic ad updates to the collector (changes are also sent at once).',
  },
  CLASSAD_LIFETIME: {
    type: 'int',
    default: '0',
    daemons: ['collector'],
    reload: 'live',
    min: 0,
    description: 'Seconds an ad lives without an update; 0 = 3 × UPDATE_INTERVAL of its daemon.',
  },
  NEGOTIATOR_INTERVAL: {
    type: 'int',
    default: '60',
    daemons: ['negotiator'],
    reload: 'live',
    min: 1,
    description: 'Fallback seconds between negotiation cycles; cycles normally run on events.',
  },
  NEGOTIATOR_CYCLE_DELAY_MS: {
    type: 'int',
    default: '0',
    daemons: ['negotiator'],
    reload: 'live',
    min: 0,
    description:
      'Milliseconds to gather events before a triggered cycle; 0: the cycle runs once the events read together are applied.',
  },
  NEGOTIATOR_MIN_INTERVAL_MS: {
    type: 'int',
    default: '50',
    daemons: ['negotiator'],
    reload: 'live',
    min: 0,
    description: 'Least milliseconds between the end of one cycle and the start of the next on a busy pool.',
  },
  NEGOTIATOR_MAX_TIME_PER_SUBMITTER: {
    type: 'int',
    default: '10',
    daemons: ['negotiator'],
    reload: 'live',
    min: 1,
    description:
      'Seconds one submitter may take of a negotiation cycle; past them its jobs wait for the next cycle, so costly Requirements cannot stall the others.',
  },
  CONCURRENCY_LIMIT_DEFAULT: {
    type: 'string',
    default: '',
    daemons: ['negotiator'],
    reload: 'live',
    description: 'Pool-wide limit for a concurrency limit name without its own NAME_LIMIT knob; empty = unlimited.',
  },
  PREEMPTION_REQUIREMENTS: {
    type: 'expr',
    default: 'FALSE',
    daemons: ['negotiator'],
    reload: 'live',
    description:
      'When a job of a better-priority submitter may preempt a running one (MY = the claimed slot with RemoteUserPrio, SubmitterUserPrio, TotalJobRunTime…; TARGET = the candidate job), e.g. RemoteUserPrio > SubmitterUserPrio * 1.2; FALSE = no priority preemption.',
  },
  PREEMPTION_RANK: {
    type: 'expr',
    default: '(RemoteUserPrio * 1000000) - ifThenElse(isUndefined(TotalJobRunTime), 0, TotalJobRunTime)',
    daemons: ['negotiator'],
    reload: 'live',
    description:
      'Among the claimed slots a job may preempt, higher first (after job Rank, and machine RANK preemption before priority preemption).',
  },
  NEGOTIATOR_CONSIDER_PREEMPTION: {
    type: 'bool',
    default: 'TRUE',
    daemons: ['negotiator'],
    reload: 'live',
    description:
      'Look at claimed slots for preemption (priority or machine RANK); FALSE = only unclaimed slots (faster).',
  },
  RANK: {
    type: 'expr',
    default: '0',
    daemons: ['startd'],
    reload: 'live',
    description:
      "Machine policy: how much this machine prefers a job (the slot ads' Rank); a job it ranks higher than the running one may preempt it (RANK preemption).",
  },
  MAXJOBRETIREMENTTIME: {
    type: 'expr',
    default: '0',
    daemons: ['startd', 'negotiator'],
    reload: 'live',
    description:
      'Seconds a running job is guaranteed before preemption may evict it (published in slot ads as MaxJobRetirementTime; the negotiator does not preempt a job with retirement time left).',
  },
  GROUP_NAMES: {
    type: 'list',
    default: '',
    daemons: ['negotiator', 'schedd'],
    reload: 'live',
    description:
      'Accounting groups with quotas (group_a, group_a.sub, …); jobs join one with accounting_group (a user may join only a group listed here). Each group takes GROUP_QUOTA_<group> (cpus) or GROUP_QUOTA_DYNAMIC_<group> (fraction of its parent), and GROUP_ACCEPT_SURPLUS_<group>.',
  },
  GROUP_ACCEPT_SURPLUS: {
    type: 'bool',
    default: 'FALSE',
    daemons: ['negotiator'],
    reload: 'live',
    description:
      'Default for GROUP_ACCEPT_SURPLUS_<group>: may a group go over its quota with what other groups leave unused.',
  },
  NEGOTIATOR_ALLOW_QUOTA_OVERSUBSCRIPTION: {
    type: 'bool',
    default: 'FALSE',
    daemons: ['negotiator'],
    reload: 'live',
    description:
      'Keep group quotas as configured when they add up to more than their parent has (FALSE: scale them down in proportion).',
  },
  JOB_LEASE_DURATION: {
    type: 'int',
    default: '300',
    daemons: ['schedd', 'startd'],
    reload: 'live',
    min: 5,
    description: 'Seconds a startd keeps running a job without hearing from its schedd.',
  },
  KILL_GRACE: {
    type: 'int',
    default: '10',
    daemons: ['startd'],
    reload: 'live',
    min: 0,
    description: 'Default seconds between the soft kill signal and SIGKILL (job_max_vacate_time overrides).',
  },
  STARTER_UPDATE_INTERVAL: {
    type: 'int',
    default: '5',
    daemons: ['startd'],
    reload: 'live',
    min: 1,
    description:
      "Seconds between measurements of each running job's processes (usage sent to the schedd when it changed; RSS memory limit).",
  },
  STARTER_MEMORY_ENFORCEMENT: {
    type: 'string',
    default: 'auto',
    daemons: ['startd'],
    reload: 'restart',
    description:
      'How a job is held to its request_memory: cgroup (cgroup v2 memory.max), rss (kill when the measured RSS is over), none, or auto (cgroup when possible, else rss).',
  },
  BASE_CGROUP: {
    type: 'string',
    default: 'dsched',
    daemons: ['startd'],
    reload: 'restart',
    description:
      "cgroup directory (under /sys/fs/cgroup, and under each hierarchy STARTD_PROCESS_TRACKING uses) holding the startd's per-job cgroups.",
  },
  STARTD_LAUNCHERS: {
    type: 'string',
    default: 'process, container',
    daemons: ['startd'],
    reload: 'restart',
    description:
      "The launchers this startd runs jobs with: process (always) and container (universe = container jobs through podman, registered when PODMAN runs a test container at start). Logged at start; a registered container launcher is advertised as HasContainer, HasDocker and DockerVersion in the slot ads (HTCondor's names), and the launchers as StartdLaunchers.",
  },
  PODMAN: {
    type: 'string',
    default: 'podman',
    daemons: ['startd'],
    reload: 'restart',
    description:
      "The podman program the container launcher runs (as root; HTCondor's DOCKER knob may name podman too). A name without a slash is looked up in /usr/local/bin, /usr/bin and /bin.",
  },
  PODMAN_ARGS: {
    type: 'string',
    default: '',
    daemons: ['startd'],
    reload: 'restart',
    description:
      "Global options put before every podman command of the container launcher, split on spaces (e.g. --root /srv/containers --runtime runc). Without --runtime, the startd tries podman's default OCI runtime and then runc, and keeps the first that runs its test container.",
  },
  CONTAINER_PULL: {
    type: 'string',
    default: 'missing',
    daemons: ['startd'],
    reload: 'restart',
    description:
      "When podman pulls a container job's image: missing (only when this host lacks it), never (only images already here; advertised as HasDockerURL = false), always or newer (podman run --pull).",
  },
  STARTD_PROCESS_TRACKING: {
    type: 'string',
    default: 'auto',
    daemons: ['startd'],
    reload: 'restart',
    description:
      "How the startd finds all of a job's processes, so none outlives the job: cgroup-v2 (a cgroup per job in the unified hierarchy), cgroup-v1 (a cgroup per job in the v1 freezer or pids hierarchy), environ (the processes of the job's uid with a secret tag in their environment, its process group and their descendants), or auto (the first of these this host can do). Shown as ProcessTracking in the slot ad.",
  },
  POLLING_INTERVAL: {
    type: 'int',
    default: '5',
    daemons: ['startd'],
    reload: 'live',
    min: 1,
    description:
      'Seconds between evaluations of the machine policy (WANT_SUSPEND, SUSPEND, CONTINUE, PREEMPT, KILL) against each running job.',
  },
  WANT_SUSPEND: {
    type: 'expr',
    default: 'FALSE',
    daemons: ['startd'],
    reload: 'live',
    description: 'Machine policy: when true for a running job, SUSPEND (not PREEMPT) decides whether it is stopped.',
  },
  SUSPEND: {
    type: 'expr',
    default: 'FALSE',
    daemons: ['startd'],
    reload: 'live',
    description: 'Machine policy: suspend the job (SIGSTOP to its process group) when WANT_SUSPEND is true.',
  },
  CONTINUE: {
    type: 'expr',
    default: 'TRUE',
    daemons: ['startd'],
    reload: 'live',
    description: 'Machine policy: resume a suspended job (SIGCONT).',
  },
  PREEMPT: {
    type: 'expr',
    default: 'FALSE',
    daemons: ['startd'],
    reload: 'live',
    description: 'Machine policy: evict the job (it goes back to idle at its schedd) and release its claim.',
  },
  WANT_VACATE: {
    type: 'expr',
    default: 'TRUE',
    daemons: ['startd'],
    reload: 'live',
    description:
      'Machine policy: a preempted job gets its kill_sig and a grace period (true) or SIGKILL at once (false).',
  },
  KILL: {
    type: 'expr',
    default: 'FALSE',
    daemons: ['startd'],
    reload: 'live',
    description: 'Machine policy: while a job is being vacated, SIGKILL it at once.',
  },
  MACHINE_MAX_VACATE_TIME: {
    type: 'int',
    default: '600',
    daemons: ['startd'],
    reload: 'live',
    min: 0,
    description:
      'Most seconds a preempted job gets between its kill_sig and SIGKILL (a smaller job_max_vacate_time wins).',
  },
  PERIODIC_EXPR_INTERVAL: {
    type: 'int',
    default: '60',
    daemons: ['schedd'],
    reload: 'restart',
    min: 1,
    description: 'Seconds between evaluations of periodic_hold/release/remove and allowed_job_duration (walltime).',
  },
  PERIODIC_EXPR_MAX_TIME_PER_OWNER: {
    type: 'int',
    default: '10',
    daemons: ['schedd'],
    reload: 'live',
    min: 1,
    description:
      "Seconds one owner's jobs may take of a pass of the periodic policies; past them the rest wait for the next pass, so costly policies cannot hold up the others'.",
  },
  MAX_SPOOLED_OUTPUT: {
    type: 'size-kb',
    default: '1GB',
    daemons: ['schedd'],
    reload: 'live',
    min: 0,
    description:
      "Bytes (in KB, or with a K/M/G suffix) of an evicted job's output (when_to_transfer_output = ON_EXIT_OR_EVICT: its checkpoint) the schedd keeps in its spool until the job runs again. The spool is root's and counts against no user's quota, and a sparse file costs its job nothing to send, so past this the checkpoint is dropped and the job is held.",
  },
  MAIL: {
    type: 'string',
    default: '/usr/bin/mail',
    daemons: ['schedd'],
    reload: 'live',
    description: 'Command that sends job mail: run as `MAIL -s SUBJECT ADDRESS` with the message on stdin.',
  },
  QUEUES: {
    type: 'list',
    default: 'workq',
    daemons: ['schedd'],
    reload: 'live',
    description:
      'Batch queues (PBS queues, Slurm partitions) jobs are routed to with `-q NAME` (#PBS, dsubmit) or `batch_queue = NAME` / `+Queue = "NAME"` (submit files). Each NAME may have QUEUE_<NAME>_MAX_WALLTIME and _DEFAULT_WALLTIME (durations), _MAX_JOBS_PER_USER (queued and running), _MAX_RUNNING (at once, for the whole queue), _DEFAULT_MEMORY (MB) and _DEFAULT_CPUS (for #PBS jobs that ask for none), _ALLOWED_USERS and _ALLOWED_GROUPS (empty: everyone). A job for an unknown queue, or from a user it does not allow, or over its limits, is refused at submit.',
  },
  DEFAULT_QUEUE: {
    type: 'string',
    default: 'workq',
    daemons: ['schedd'],
    reload: 'live',
    description:
      'The queue of a job that names none (PBS Pro calls its default queue workq); it must be one of QUEUES.',
  },
  PBS_WALLTIME_HOLD: {
    type: 'bool',
    default: 'false',
    daemons: ['schedd'],
    reload: 'live',
    description:
      'A #PBS job over its walltime is killed as PBS does (exit status 271, "PBS: job killed: walltime N exceeded limit M" in its error file, afternotok dependents run); true holds it instead, as HTCondor holds a job over allowed_job_duration (code 46).',
  },
  QUEUE_SUPER_USERS: {
    type: 'list',
    default: 'root',
    daemons: ['schedd'],
    reload: 'live',
    description: 'Users who may act on any job (the pool owner is always one).',
  },
  MAX_JOBS_PER_SUBMISSION: {
    type: 'int',
    default: '1000000',
    daemons: ['schedd', 'tools'],
    reload: 'live',
    min: 1,
    description: 'Largest number of procs one submission may queue.',
  },
  DAGMAN_MAX_NODES_PER_OWNER: {
    type: 'int',
    default: '200000',
    daemons: ['schedd'],
    reload: 'live',
    min: 1,
    description:
      "Most nodes one user's running DAGs may have in all (the schedd keeps each in memory); a DAG past what is left is held.",
  },
  MAX_JOBS_PER_OWNER: {
    type: 'int',
    default: '1000000',
    daemons: ['schedd'],
    reload: 'live',
    min: 1,
    description:
      'Most jobs one user may have in the queue at once (all their jobs, whatever their status); a submission past it is refused whole.',
  },
  WATCH_BACKLOG: {
    type: 'int',
    default: '120000',
    daemons: ['schedd'],
    reload: 'live',
    min: 1,
    description:
      "Most job changes a WatchJobs reader (dq -watch, dwait, the web daemon) may fall behind by, and one caller's readers together; past it (or past 64 MB of them) the caller's stream furthest behind ends with WATCHER_TOO_SLOW and it watches again from the queue as it is.",
  },
  QUERY_CPU_LIMIT: {
    type: 'int',
    default: '30',
    daemons: ['schedd', 'collector'],
    reload: 'live',
    min: 1,
    description:
      "Most seconds of a daemon's time one query may take evaluating its constraint: a job query at the schedd (dq, dhistory, dwait, job selection), an ad query at the collector (dstatus); past it the query ends with QUERY_TOO_EXPENSIVE. Queries are answered a chunk at a time, so others go on meanwhile.",
  },
  PRIVATE_JOB_ATTRS: {
    type: 'list',
    default: '',
    daemons: ['schedd'],
    reload: 'live',
    description:
      "Job attributes shown only to the job's owner and to admins (besides Environment and Env, which always are): other users' queries, watches and constraints do not see them.",
  },
  MAX_HISTORY_JOBS: {
    type: 'int',
    default: '100000',
    daemons: ['schedd'],
    reload: 'live',
    min: 0,
    description: 'Finished jobs kept in history.',
  },
  MASTER_NATIVE: {
    type: 'bool',
    default: 'true',
    daemons: ['master'],
    reload: 'restart',
    description:
      'On a host whose DAEMON_LIST is STARTD alone, `dsched start` runs the small native master (no node process; it reads RESTART_BACKOFF_MAX at start and serves no RPC, so only root or the pool owner stops or reconfigures it); FALSE runs the node master.',
  },
  RESTART_BACKOFF_MAX: {
    type: 'int',
    default: '30',
    daemons: ['master'],
    reload: 'live',
    min: 1,
    description: 'Most seconds the master waits before restarting a daemon that keeps dying.',
  },
  ANONYMOUS_REQUEST_BUDGET: {
    type: 'size-kb',
    default: '32MB',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master'],
    reload: 'live',
    min: 2048,
    description:
      "Bytes (in KB, or with a K/M/G suffix) of requests a daemon reads at once from calls without a credential (the authentication handshake, chirps, joins, health checks: at most 2 MiB each), counted from each message's declared length before its body is read; a call past it is refused with ANONYMOUS_LIMIT (RESOURCE_EXHAUSTED). Calls with a credential are not counted.",
  },
  ANONYMOUS_REQUEST_BUDGET_PER_HOST: {
    type: 'size-kb',
    default: '8MB',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master'],
    reload: 'live',
    min: 2048,
    description:
      'The part of ANONYMOUS_REQUEST_BUDGET the calls from one client host (an IPv4 address, an IPv6 /64) may hold at once, so that one host cannot take all of it.',
  },
  USER_REQUEST_BUDGET: {
    type: 'size-kb',
    default: '512MB',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master'],
    reload: 'live',
    min: 2048,
    description:
      "Bytes (in KB, or with a K/M/G suffix) of requests one user's calls may have being read at once by a daemon, counted from each message's declared length before its body is read and given back once it has arrived; a call past it is refused with USER_REQUEST_LIMIT (RESOURCE_EXHAUSTED). One request is at most 512 MB, so the default admits any one of them; without it a user's calls in parallel made a daemon hold as many requests as they opened.",
  },
  MAX_CONNECTIONS_PER_CLIENT: {
    type: 'int',
    default: '256',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master', 'web'],
    reload: 'live',
    min: 1,
    description:
      "Connections one client may hold open to a daemon: a user, from the first call (or web request) with their token on the connection; before it, a remote host (an IPv4 address, an IPv6 /64), or this host from any of its own addresses. A newer one closes that client's oldest; a daemon's own connections are not counted.",
  },
  MAX_CONNECTIONS: {
    type: 'int',
    default: '0',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master', 'web'],
    reload: 'live',
    min: 0,
    description:
      'Connections all clients together may hold open to a daemon (0: half its open-files limit, the rest kept for its own work); a newcomer past it closes the oldest connection of the client holding the most, so no one client keeps the others out.',
  },
  ANONYMOUS_REQUEST_TIMEOUT: {
    type: 'int',
    default: '60',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master'],
    reload: 'live',
    min: 1,
    description:
      'Seconds a request of a call without a credential may take to arrive once its header has; a call slower than that ends with TIMEOUT and gives back its part of ANONYMOUS_REQUEST_BUDGET.',
  },
  MAX_DAEMON_LOG: {
    type: 'size-kb',
    default: '10MB',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master', 'web', 'provisioner'],
    reload: 'live',
    min: 0,
    description:
      "Size in KB (or with a K/M/G suffix) past which a daemon's log (log/NAME.log) is renamed NAME.log.old and a new one begun, as HTCondor's MAX_<SUBSYS>_LOG (its log/NAME.out, when the master starts it again, becomes NAME.out.old); 0 = never rotate.",
  },
  MAX_NUM_DAEMON_LOG: {
    type: 'int',
    default: '1',
    daemons: ['collector', 'negotiator', 'schedd', 'startd', 'master', 'web', 'provisioner'],
    reload: 'live',
    min: 1,
    max: 100,
    description:
      "Rotated copies of each daemon's log kept: NAME.log.old, then NAME.log.old.2 … (HTCondor's MAX_NUM_<SUBSYS>_LOG).",
  },
  WEB_ADDRESS: {
    type: 'string',
    default: '127.0.0.1',
    daemons: ['web'],
    reload: 'restart',
    description:
      'Address the web daemon (HTTP API, dashboard, /metrics) listens on. Readers without a token are served only on a loopback address.',
  },
  WEB_PORT: {
    type: 'int',
    default: '0',
    daemons: ['web'],
    reload: 'restart',
    min: 0,
    max: 65535,
    description:
      'Port of the web daemon; 0 = any free port (its URL is in run/web.address and printed by `dsched start`).',
  },
  WEB_ANONYMOUS_READ: {
    type: 'bool',
    default: 'true',
    daemons: ['web'],
    reload: 'live',
    description:
      'Let requests without a token read the queue, history and pool (as a user who owns no job: no private attributes), as any local user can with dq. Never on a non-loopback WEB_ADDRESS; writes always need a token.',
  },
  WEB_ALLOWED_HOSTS: {
    type: 'list',
    default: '',
    daemons: ['web'],
    reload: 'live',
    description:
      "Host names (Host header) the web daemon answers besides localhost and its address, e.g. a reverse proxy's name; any other is refused (DNS rebinding).",
  },
  WEB_CORS_ORIGINS: {
    type: 'list',
    default: '',
    daemons: ['web'],
    reload: 'live',
    description: 'Origins whose pages may call the API from a browser (CORS); empty = none but the dashboard itself.',
  },
  WEB_JOBS_IDLE: {
    type: 'int',
    default: '300',
    daemons: ['web'],
    reload: 'live',
    min: 0,
    description:
      'Seconds the web daemon keeps watching the job queue after the last request or event stream that needed it (the batch view, the overview, /metrics, /v1/events); it watches again on the next one. 0 watches always.',
  },
  WEB_MAX_BODY: {
    type: 'size-kb',
    default: '1024',
    daemons: ['web'],
    reload: 'live',
    min: 1,
    description: 'Largest request body (a submit description) the web daemon accepts, in KB.',
  },
  WEB_IDLE_TIMEOUT: {
    type: 'int',
    default: '120',
    daemons: ['web'],
    reload: 'restart',
    min: 2,
    description:
      'Seconds a web connection may go without anything read from it or written to it, or with answers waiting of which its client takes nothing, before the web daemon closes it: a client that stops reading does not keep its answers in memory for good. A slow reader stays if it takes some of them in each such span (the kernel makes room in its send buffer, a few MB, half of it at a time). Event streams send a comment at half this (every 25 s at most), so an open stream is never idle.',
  },
  PROVISIONER_PROVIDER: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'restart',
    description:
      'Where the provisioner starts execute hosts: netns (network namespaces on this machine, for tests), slurm (pilot jobs through sbatch) or kubernetes (a pod per host); empty = the provisioner does nothing.',
  },
  PROVISIONER_MIN_HOSTS: {
    type: 'int',
    default: '0',
    daemons: ['provisioner'],
    reload: 'live',
    min: 0,
    description: 'Provisioned execute hosts kept even when idle.',
  },
  PROVISIONER_MAX_HOSTS: {
    type: 'int',
    default: '4',
    daemons: ['provisioner'],
    reload: 'live',
    min: 0,
    description: 'Most provisioned execute hosts at once (starting, running or draining).',
  },
  PROVISIONER_IDLE_TIMEOUT: {
    type: 'int',
    default: '600',
    daemons: ['provisioner'],
    reload: 'live',
    min: 1,
    description: 'Seconds a provisioned host holds no claim before it is drained, stopped and its certificate revoked.',
  },
  PROVISIONER_START_TIMEOUT: {
    type: 'int',
    default: '600',
    daemons: ['provisioner'],
    reload: 'live',
    min: 10,
    description:
      'Seconds a started host may take to show its slot (a Slurm pilot waiting in the queue included) before it is stopped; also the life of its join token.',
  },
  PROVISIONER_JOBS_PER_HOST: {
    type: 'int',
    default: '1',
    daemons: ['provisioner'],
    reload: 'live',
    min: 1,
    description: 'Idle jobs one new host is expected to take: hosts started = idle jobs that match no slot / this.',
  },
  PROVISIONER_INTERVAL: {
    type: 'int',
    default: '10',
    daemons: ['provisioner'],
    reload: 'live',
    min: 1,
    description: "Seconds between the provisioner's looks at the pool's ads.",
  },
  PROVISIONER_COLLECTOR: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'live',
    description: "host:port the provisioned hosts dial to join; empty = COLLECTOR_HOST, else this host's collector.",
  },
  PROVISIONER_HOST_CONFIG: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'live',
    description:
      'Config of every provisioned host, `NAME = value` parts separated by `;` (NUM_CPUS, START, UPDATE_INTERVAL …).',
  },
  PROVISIONER_NETNS_SWITCH: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'restart',
    description: 'netns provider: the network namespace whose bridge br0 the new hosts are plugged into.',
  },
  PROVISIONER_NETNS_SUBNET: {
    type: 'string',
    default: '10.231.0',
    daemons: ['provisioner'],
    reload: 'restart',
    description: "netns provider: the first three octets of the bridge's /24.",
  },
  PROVISIONER_NETNS_FIRST: {
    type: 'int',
    default: '100',
    daemons: ['provisioner'],
    reload: 'restart',
    min: 2,
    max: 254,
    description: 'netns provider: new hosts take addresses from this last octet up.',
  },
  PROVISIONER_NETNS_PREFIX: {
    type: 'string',
    default: 'dsel',
    daemons: ['provisioner'],
    reload: 'restart',
    description: 'netns provider: names of the namespaces and hosts it makes start with this.',
  },
  PROVISIONER_SLURM_SBATCH_ARGS: {
    type: 'list',
    default: '--time=60, --cpus-per-task=1',
    daemons: ['provisioner'],
    reload: 'live',
    description: 'slurm provider: sbatch options of each pilot job (partition, time limit, cpus, account).',
  },
  PROVISIONER_SLURM_CONF: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'restart',
    description: "slurm provider: slurm.conf for sbatch, squeue and scancel (SLURM_CONF); empty = Slurm's default.",
  },
  PROVISIONER_SLURM_PILOT_DIR: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'live',
    description:
      "slurm provider: a directory on the compute nodes that no other user can write, for each pilot's output and startd log; empty = none kept. Pilot homes are made with mktemp -d in the job's TMPDIR.",
  },
  PROVISIONER_SLURM_PREFIX: {
    type: 'string',
    default: 'pilot-',
    daemons: ['provisioner'],
    reload: 'restart',
    description: 'slurm provider: host names of pilots start with this (then 6 random hex digits).',
  },
  PROVISIONER_K8S_KUBECONFIG: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'restart',
    description:
      "kubernetes provider: kubeconfig file the provisioner reaches the API server with (its current context; a user allowed to create, list and delete pods and secrets in the namespace); empty = in-cluster, with the provisioner pod's service account.",
  },
  PROVISIONER_K8S_NAMESPACE: {
    type: 'string',
    default: 'default',
    daemons: ['provisioner'],
    reload: 'restart',
    description: 'kubernetes provider: namespace of the execute-host pods and their join-token secrets.',
  },
  PROVISIONER_K8S_IMAGE: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'live',
    description:
      "kubernetes provider: container image with dsched on PATH that each execute-host pod runs; empty = the pod template's.",
  },
  PROVISIONER_K8S_POD_TEMPLATE: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'live',
    description:
      'kubernetes provider: file of a Pod manifest (YAML or JSON) each execute-host pod is made from (resources, node selector, tolerations, security context, ...); its container named startd (or its first) runs the startd. The name, the command, the join-token volume, restartPolicy Never and no service-account token are set over it; empty = a pod of one container.',
  },
  PROVISIONER_K8S_PREFIX: {
    type: 'string',
    default: 'dsched-exec-',
    daemons: ['provisioner'],
    reload: 'restart',
    description:
      'kubernetes provider: names of the pods, secrets and hosts start with this (then 6 random hex digits).',
  },
  PROVISIONER_DSCHED_COMMAND: {
    type: 'string',
    default: '',
    daemons: ['provisioner'],
    reload: 'live',
    description:
      'The command that runs dsched on a provisioned host (node and dsched.js); empty = the same node and dsched.js as this provisioner.',
  },
  AUTH_DIR: {
    type: 'string',
    default: '',
    daemons: ['schedd'],
    reload: 'restart',
    description: 'World-writable sticky directory for the file-ownership challenge; empty = $DSCHED_HOME/run/auth.',
  },
} satisfies Record<string, ParamInfo>;

export type ParamName = keyof typeof PARAMS;
