// The submit commands: which names condor_submit knows (so others are warned about), and the simple
// ones that set one job attribute (HTCondor's attribute names, from the condor_submit manual).
// Commands with more logic (executable, arguments, environment, requests, requirements, policy …)
// are handled in to-job-ads.ts.

// count: a whole number of jobs, 1 or more, given as a number (no expression)
export type SimpleType = 'expr' | 'bool' | 'int' | 'count' | 'string';

/** command (lower case) → [attribute, type] */
export const SIMPLE_COMMANDS: Record<string, [string, SimpleType]> = {
  notify_user: ['NotifyUser', 'string'],
  email_attributes: ['EmailAttributes', 'string'],
  output_destination: ['OutputDestination', 'string'],
  encrypt_input_files: ['EncryptInputFiles', 'string'],
  encrypt_output_files: ['EncryptOutputFiles', 'string'],
  dont_encrypt_input_files: ['DontEncryptInputFiles', 'string'],
  dont_encrypt_output_files: ['DontEncryptOutputFiles', 'string'],
  encrypt_execute_directory: ['EncryptExecuteDirectory', 'bool'],
  max_transfer_input_mb: ['MaxTransferInputMB', 'expr'],
  max_transfer_output_mb: ['MaxTransferOutputMB', 'expr'],
  stream_input: ['StreamIn', 'bool'],
  stream_output: ['StreamOut', 'bool'],
  stream_error: ['StreamErr', 'bool'],
  job_max_vacate_time: ['JobMaxVacateTime', 'expr'],
  max_job_retirement_time: ['MaxJobRetirementTime', 'expr'],
  kill_sig_timeout: ['KillSigTimeout', 'int'],
  concurrency_limits_expr: ['ConcurrencyLimitsExpr', 'expr'],
  leave_in_queue: ['LeaveJobInQueue', 'expr'],
  allowed_job_duration: ['AllowedJobDuration', 'expr'],
  allowed_execute_duration: ['AllowedExecuteDuration', 'expr'],
  deferral_time: ['DeferralTime', 'expr'],
  deferral_window: ['DeferralWindow', 'expr'],
  deferral_prep_time: ['DeferralPrepTime', 'expr'],
  cron_minute: ['CronMinute', 'string'],
  cron_hour: ['CronHour', 'string'],
  cron_day_of_month: ['CronDayOfMonth', 'string'],
  cron_month: ['CronMonth', 'string'],
  cron_day_of_week: ['CronDayOfWeek', 'string'],
  cron_prep_time: ['CronPrepTime', 'expr'],
  cron_window: ['CronWindow', 'expr'],
  description: ['JobDescription', 'string'],
  nice_user: ['NiceUser', 'bool'],
  coresize: ['CoreSize', 'expr'],
  job_lease_duration: ['JobLeaseDuration', 'expr'],
  next_job_start_delay: ['NextJobStartDelay', 'expr'],
  job_machine_attrs: ['JobMachineAttrs', 'string'],
  job_machine_attrs_history_length: ['JobMachineAttrsHistoryLength', 'int'],
  job_ad_information_attrs: ['JobAdInformationAttrs', 'string'],
  want_graceful_removal: ['WantGracefulRemoval', 'expr'],
  keep_claim_idle: ['KeepClaimIdle', 'int'],
  submit_event_notes: ['SubmitEventNotes', 'string'],
  noop_job: ['NoopJob', 'expr'],
  noop_job_exit_code: ['NoopJobExitCode', 'expr'],
  noop_job_exit_signal: ['NoopJobExitSignal', 'expr'],
  remote_initialdir: ['RemoteIwd', 'string'],
  run_as_owner: ['RunAsOwner', 'bool'],
  load_profile: ['LoadProfile', 'bool'],
  stack_size: ['StackSize', 'expr'],
  match_list_length: ['LastMatchListLength', 'int'],
  periodic_vacate: ['PeriodicVacate', 'expr'],
  on_exit_hold_reason: ['OnExitHoldReason', 'expr'],
  on_exit_hold_subcode: ['OnExitHoldSubCode', 'expr'],
  periodic_hold_reason: ['PeriodicHoldReason', 'expr'],
  periodic_hold_subcode: ['PeriodicHoldSubCode', 'expr'],
  periodic_release: ['PeriodicRelease', 'expr'],
  periodic_remove: ['PeriodicRemove', 'expr'],
  periodic_hold: ['PeriodicHold', 'expr'],
  on_exit_hold: ['OnExitHold', 'expr'],
  docker_image: ['DockerImage', 'string'],
  container_image: ['ContainerImage', 'string'],
  x509userproxy: ['x509userproxy', 'string'],
  use_x509userproxy: ['UseX509UserProxy', 'bool'],
  checkpoint_exit_code: ['CheckpointExitCode', 'int'],
  transfer_checkpoint_files: ['TransferCheckpoint', 'string'],
  want_checkpoint: ['WantCheckpoint', 'bool'],
  machine_count: ['MachineCount', 'int'],
  // every proc is queued at submit; max_materialize limits how many of them run at once (JobQueue.canStart),
  // max_idle is taken and checked but limits nothing (docs/submit.md)
  max_materialize: ['JobMaterializeLimit', 'count'],
  max_idle: ['JobMaterializeMaxIdle', 'count'],
  // condor_submit's other name for max_idle
  materialize_max_idle: ['JobMaterializeMaxIdle', 'count'],
  dagman_log: ['DAGManNodesLog', 'string'],
  vm_type: ['JobVMType', 'string'],
  vm_memory: ['JobVMMemory', 'int'],
  vm_checkpoint: ['JobVMCheckpoint', 'bool'],
  vm_networking: ['JobVMNetworking', 'bool'],
  vm_networking_type: ['JobVMNetworkingType', 'string'],
  vm_no_output_vm: ['VMPARAM_No_Output_VM', 'bool'],
  vm_macaddr: ['JobVM_MACADDR', 'string'],
  vm_disk: ['VMPARAM_vm_Disk', 'string'],
  grid_resource: ['GridResource', 'string'],
  batch_queue: ['BatchQueue', 'string'],
  java_vm_args: ['JavaVMArgs', 'string'],
  jar_files: ['JarFiles', 'string'],
  rendezvousdir: ['RendezvousDir', 'string'],
};

/** Commands handled with more logic in to-job-ads.ts (or read by others). */
export const SPECIAL_COMMANDS = [
  'universe',
  'executable',
  'arguments',
  'environment',
  'env',
  'getenv',
  'input',
  'output',
  'error',
  'log',
  'log_xml',
  'initialdir',
  'initial_dir',
  'requirements',
  'rank',
  'request_cpus',
  'request_memory',
  'request_disk',
  'request_gpus',
  'priority',
  'notification',
  'should_transfer_files',
  'when_to_transfer_output',
  'transfer_executable',
  'transfer_input_files',
  'transfer_output_files',
  'transfer_output_remaps',
  'on_exit_remove',
  'max_retries',
  'retry_until',
  'success_exit_code',
  'hold',
  'accounting_group',
  'accounting_group_user',
  'batch_name',
  'jobbatchname',
  'image_size',
  'skip_filechecks',
  'copy_to_spool',
  'transfer_input',
  'transfer_output',
  'transfer_error',
  'want_remote_io',
  'buffer_size',
  'buffer_block_size',
  'buffer_files',
  'compress_files',
  'fetch_files',
  'append_files',
  'local_files',
  'file_remaps',
  'allow_startup_script',
  'dont_use_docker',
  'gpus_minimum_capability',
  'gpus_maximum_capability',
  'gpus_minimum_memory',
  'require_gpus',
  'request_gpu_memory',
  'cuda_version',
  'container_target_dir',
  'docker_network_type',
  'docker_pull_policy',
  'transfer_container',
  'want_io_proxy',
  'manifest',
  'manifest_dir',
  'erase_output_and_error_on_restart',
  'starter_debug',
  'job_max_vacate_time',
  'want_ft_on_check',
  'periodic_vacate',
  'max_transfer_input_mb',
  'output_destination',
  'use_oauth_services',
  'my.',
  'preserve_relative_paths',
  'transfer_plugins',
  'coresize',
  'concurrency_limits',
  'kill_sig',
  'remove_kill_sig',
  'hold_kill_sig',
];

let known: Set<string> | undefined;
/** Whether `name` (any case) is a submit command condor_submit knows. */
export function isSubmitCommand(name: string): boolean {
  if (!known) known = new Set([...Object.keys(SIMPLE_COMMANDS), ...SPECIAL_COMMANDS]);
  const n = name.toLowerCase();
  if (known.has(n)) return true;
  // families: request_<resource>, ec2_*, gce_*, azure_*, arc_*, batch_*, boinc_*, globus_*, cream_*,
  // nordugrid_*, unicore_*, vm_*, xen_*, vmware_*, kvm_*, docker_*, container_*, MyProxy*, cron_*, +Attr, My.Attr
  return (
    n.startsWith('+') ||
    n.startsWith('my.') ||
    /^(request_|ec2_|gce_|azure_|arc_|batch_|boinc_|globus_|cream_|nordugrid_|unicore_|vm_|xen_|vmware_|kvm_|docker_|container_|myproxy|cron_|hold_|delegate_|keystore_|gridftp_|sec_)/.test(
      n,
    )
  );
}

/** The closest known command to a misspelt one (edit distance ≤ 2), for warnings. */
export function closestCommand(name: string): string | undefined {
  if (!known) isSubmitCommand('');
  const n = name.toLowerCase();
  let best: string | undefined;
  let bestD = 3;
  for (const k of known!) {
    if (k.endsWith('.') || Math.abs(k.length - n.length) > 2) continue;
    const d = editDistance(n, k, bestD);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  // optimal string alignment: insertions, deletions, substitutions and adjacent transpositions
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let rowMin = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
  }
  return d[a.length]![b.length]!;
}
