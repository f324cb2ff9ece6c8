/** Whether a promise has settled, for tests that prove something is still held back. */

/** Whether `promise` has settled after the event loop had every chance to settle it (100 ms of real time). */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  return done;
}
