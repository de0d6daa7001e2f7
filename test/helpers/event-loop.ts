/**
 * Counts the turns of the event loop (a setImmediate chain) while `work` is pending. Work done
 * on the loop allows none until it ends; work on other threads lets the loop turn freely,
 * typically thousands of times. Turns, not milliseconds: a loaded machine slows both sides, so
 * the count keeps its meaning where a stall measured in milliseconds does not.
 */
export async function loopTurnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let pending = true;
  const turn = () => {
    if (!pending) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  await work();
  pending = false;
  return turns;
}
