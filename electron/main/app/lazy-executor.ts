// The app must open, and say what is wrong, when no engine answers; createExecutor needs one.
// So the executor is made on first need, and a failed attempt is forgotten: the next call tries
// again, and the app recovers by itself once an engine comes up.
import { ClosedError } from '../engine/errors';
import { createExecutor, type Executor, type ExecutorOptions } from '../engine/executor';

export class LazyExecutor {
  private executor: Executor | undefined;
  private pending: Promise<Executor> | undefined;
  private closed = false;

  constructor(private readonly options: ExecutorOptions = {}) {}

  /** The executor once it exists (no engine is contacted). */
  get current(): Executor | undefined {
    return this.executor;
  }

  get(): Promise<Executor> {
    if (this.closed) return Promise.reject(new ClosedError('the Loom service is closed'));
    if (this.executor) return Promise.resolve(this.executor);
    this.pending ??= createExecutor(this.options).then(
      (executor) => {
        this.executor = executor;
        this.pending = undefined;
        return executor;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  /** Closes the executor, including one still being created (its containers are removed). */
  async close(): Promise<void> {
    this.closed = true;
    const executor = this.executor ?? (await this.pending?.catch(() => undefined));
    this.executor = undefined;
    await executor?.close();
  }
}
