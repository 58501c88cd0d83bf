// How many turns the event loop took while a piece of work ran: the tests that check that costly work
// (a user's expressions) is done a slice at a time, the daemon serving others between.

/** `work`'s result, and how many times a setImmediate chain ran until it settled. */
export async function withTurns<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let done = false;
  let turns = 0;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  const run = work().finally(() => (done = true));
  tick();
  const value = await run;
  return { value, turns };
}
