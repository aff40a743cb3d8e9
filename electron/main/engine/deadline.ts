// A bound on waiting for the Docker engine. Some of its calls can go unanswered for good (a
// kill or removal of a container paused while an exec was being set up wedges dockerd 20.10
// on that container), and no user-visible path may wait on one forever.

export const NO_ANSWER: unique symbol = Symbol('no answer');

/**
 * `promise`'s value, or NO_ANSWER when it has not settled within `ms`; a rejection passes
 * through. The timer does not keep the process alive.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof NO_ANSWER> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof NO_ANSWER>((resolve) => {
    timer = setTimeout(() => resolve(NO_ANSWER), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
