// The numbers a job ad carries for its state, as HTCondor defines them: JobStatus, HoldReasonCode and
// JobUniverse. The submit side, the schedd, the startd and the CLIs all read and write these attributes, so
// the numbers live here once.

/** JobStatus values (HTCondor's proc.h). */
export const JobStatus = {
  Idle: 1,
  Running: 2,
  Removed: 3,
  Completed: 4,
  Held: 5,
  TransferringOutput: 6,
  Suspended: 7,
} as const;

/** The HoldReasonCode values dsched sets (HTCondor's hold reason codes). */
export const HoldCode = {
  UserRequest: 1,
  JobPolicy: 3,
  FailedToCreateProcess: 6,
  UnableToOpenOutput: 7,
  UnableToOpenInput: 8,
  TransferOutputError: 12,
  TransferInputError: 13,
  IwdError: 14,
  SubmittedOnHold: 15,
  FailedToAccessUserAccount: 23,
  JobOutOfResources: 34,
  JobDurationExceeded: 46,
  JobExecuteExceeded: 47,
} as const;

/** HoldReasonSubCode values of JobOutOfResources (34): which resource the job went over, as HTCondor numbers them. */
export const OutOfResourcesSubCode = {
  Memory: 102,
  /** the execute folder's file system filled up: ENOSPC's errno, as HTCondor's file errors carry theirs */
  Disk: 28,
} as const;

/** JobUniverse numbers (HTCondor's condor_universe.h) of the universes dsched runs. */
export const Universe = { Vanilla: 5, Scheduler: 7, Parallel: 11, Local: 12, Container: 14 } as const;

/** JobUniverse numbers by the `universe =` name of a submit file. */
export const UNIVERSES: Record<string, number> = {
  vanilla: Universe.Vanilla,
  scheduler: Universe.Scheduler,
  parallel: Universe.Parallel,
  local: Universe.Local,
  container: Universe.Container,
};
