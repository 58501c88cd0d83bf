// Times in job and machine ads are epoch seconds (QDate, EnteredCurrentStatus, LastHeardFrom), as HTCondor's.

/** The current time in epoch seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A time a daemon of another host put in its ad (EnteredCurrentActivity), on the clock of the collector's
 * host: the ad's MyCurrentTime (its sender's clock as it sent it) and LastHeardFrom (the collector's as it came)
 * tell how far that host's clock is out of step. Without both, the time as it is.
 */
export function onPoolClock(time: number, myCurrentTime?: number, lastHeardFrom?: number): number {
  return myCurrentTime === undefined || lastHeardFrom === undefined ? time : time + (lastHeardFrom - myCurrentTime);
}
