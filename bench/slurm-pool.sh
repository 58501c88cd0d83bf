#!/bin/bash
# A personal Slurm for bench/commands.ts's Slurm column: one node with 128 CPUs on this host, tuned for throughput
# (cons_tres, deferred scheduling, no accounting), its own munge key and socket, free ports, and every file (config,
# state, spool, logs, pid files) in one temporary directory. System files (/etc/slurm, /etc/munge) are not read or
# written. Run on demand, by root (slurmd must run jobs as their owners):
#
#   eval "$(bench/slurm-pool.sh start)"         # prints the environment to use it (SLURM_CONF) once the node is idle
#   BENCH_E2E_ROUNDS=3 node --import tsx bench/commands.ts
#   bench/slurm-pool.sh stop                    # cancels its jobs, stops its daemons, removes the directory
#
# `stop` takes the directory from $SLURM_CONF, or as its argument; it kills only the processes whose pid files are in
# that directory and whose executable is the daemon it expects, and removes only a directory this script made.
# Tuning: SLURM_POOL_CPUS (128), SLURM_POOL_SCHED (SchedulerParameters: by default no scheduling at submit time,
# no minimum interval between scheduling passes nor batch delay, a deep queue; on this loaded 2-core machine,
# scheduling at each submit instead changed the end-to-end rate by less than the noise, about 40 jobs/s both).
set -euo pipefail

MARK=.bench-slurm-pool
CPUS=${SLURM_POOL_CPUS:-128}
SCHED=${SLURM_POOL_SCHED:-defer,sched_min_interval=0,batch_sched_delay=0,default_queue_depth=1000,sched_max_job_start=0,max_rpc_cnt=0}

die() {
  echo "slurm-pool: $*" >&2
  exit 1
}

# a TCP port nobody listens on (nor has bound: TIME_WAIT included), among the unprivileged ephemeral-free range
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if [ -z "$(ss -Htan "( sport = :$p )")" ] && [ "$p" != "${1:-}" ]; then
      echo "$p"
      return
    fi
  done
  die "no free TCP port found"
}

# the pid in FILE if that process runs program NAME (a pid file left behind may name an unrelated process by now;
# the programs on PATH may be links to the real executables)
daemon_pid() {
  local file=$1 exe pid
  exe=$(readlink -f "$(command -v "$2")")
  [ -f "$file" ] || return 1
  pid=$(tr -dc 0-9 <"$file")
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] && echo "$pid"
}

# waits (bounded) until COMMAND succeeds
wait_for() {
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

start() {
  [ "$(id -u)" = 0 ] || die "run as root: slurmd runs each job as its owner"
  for exe in munged slurmctld slurmd sbatch squeue sinfo scancel ss; do
    command -v "$exe" >/dev/null || die "$exe not found"
  done
  local dir node ctld_port slurmd_port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/slurm-pool.XXXXXX") # 0700, a new name: nothing of anyone else's is followed
  touch "$dir/$MARK"
  # munged wants every directory above its socket searchable by all: others may pass through, not list or write
  chmod 0711 "$dir"
  mkdir -m 0700 "$dir/state" "$dir/spool"
  mkdir -m 0711 "$dir/munge"
  # a failure before the end leaves nothing running
  trap 'stop_dir "$dir"' EXIT

  # munge: a key of our own (munged wants it owned by its user and readable by nobody else)
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$dir/munge/munge.key"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" ||
    die "munged did not start: $(tail -3 "$dir/munged.log" 2>/dev/null)"

  node=$(hostname -s)
  ctld_port=$(free_port)
  slurmd_port=$(free_port "$ctld_port")
  : >"$dir/plugstack.conf" # no SPANK plugins (the system's plugstack.conf is not read)
  cat >"$dir/slurm.conf" <<EOF
ClusterName=bench$$
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=error
SlurmdDebug=error
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=$SCHED
SlurmdParameters=config_overrides
ReturnToService=2
MaxJobCount=300000
MaxArraySize=100001
MinJobAge=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=bench Nodes=$node Default=YES MaxTime=INFINITE State=UP AllowGroups=root
EOF
  chmod 0600 "$dir/slurm.conf" # its munge socket is open to all (as munged wants): its jobs are root's only
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -c || die "slurmctld did not start: $(tail -3 "$dir/slurmctld.log" 2>/dev/null)"
  slurmd -N "$node" || die "slurmd did not start: $(tail -3 "$dir/slurmd.log" 2>/dev/null)"
  wait_for 'an idle node' 60 sh -c "sinfo -h -N -o %t | grep -qx idle" ||
    die "the node did not become idle: $(sinfo -h -N -o '%t %E' 2>&1); logs in $dir"
  trap - EXIT
  echo "slurm-pool: idle, $CPUS CPUs on $node, ports $ctld_port/$slurmd_port, in $dir" >&2
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop_dir() {
  local dir=$1 pid
  [ -n "$dir" ] && [ -d "$dir" ] && [ -f "$dir/$MARK" ] && [ -O "$dir" ] ||
    die "$dir is not a directory made by slurm-pool.sh"
  export SLURM_CONF=$dir/slurm.conf
  if pid=$(daemon_pid "$dir/slurmctld.pid" slurmctld); then
    # jobs first, so that no slurmstepd (nor job) outlives its slurmd
    scancel --full --quiet --partition bench >/dev/null 2>&1 || true
    wait_for 'an empty queue' 30 sh -c '[ -z "$(squeue -h -o %i)" ]' || echo "slurm-pool: jobs still queued" >&2
  fi
  for d in slurmd slurmctld; do
    if pid=$(daemon_pid "$dir/$d.pid" "$d"); then
      kill "$pid"
      wait_for "$d to stop" 30 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if pid=$(daemon_pid "$dir/munged.pid" munged); then
    kill "$pid"
    wait_for 'munged to stop' 10 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf -- "$dir"
  echo "slurm-pool: stopped, $dir removed" >&2
}

case "${1:-}" in
start) start ;;
stop)
  conf=${2:-${SLURM_CONF:-}}
  [ -n "$conf" ] || die "stop needs the pool's directory (or SLURM_CONF)"
  [ -d "$conf" ] && stop_dir "$conf" || stop_dir "$(dirname "$conf")"
  ;;
*) die "usage: $0 start | stop [DIR]" ;;
esac
