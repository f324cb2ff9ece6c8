/**
 * A stream from a peer has no total deadline (a large snapshot may take minutes), only a bound on silence:
 * the peer must send the next piece within `idleMs`. Only time spent waiting for the peer counts, not the
 * time the reader spends between pieces.
 */
export async function* withIdleTimeout<T>(source: AsyncIterator<T>, idleMs: number, onSilence: () => void): AsyncGenerator<T> {
  for (;;) {
    // onSilence ends the source (cancels the call, destroys the response), which makes `next()` settle.
    const watchdog = setTimeout(onSilence, idleMs);
    let next: IteratorResult<T>;
    try {
      next = await source.next();
    } finally {
      clearTimeout(watchdog);
    }
    if (next.done === true) return;
    yield next.value;
  }
}
