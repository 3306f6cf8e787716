// What the Node benchmarks share: the median, and the time to the first piece
// of a streamed answer.

/** The median of xs (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Read res's body to its end; the milliseconds from start (a
 * performance.now()) to the first moment the text read so far matched
 * pattern (a RegExp), or null when it never did.
 */
export async function firstMatch(res, start, pattern) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  let first = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    if (first === null && pattern.test(seen)) first = performance.now() - start;
  }
  return first;
}
