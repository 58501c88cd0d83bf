// Times in job and machine ads are epoch seconds (QDate, EnteredCurrentStatus, LastHeardFrom), as HTCondor's.

/** The current time in epoch seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
