/**
 * The CLI's stdout. A pipe's writes are asynchronous to Node: `process.exit` right
 * after a large `write` cuts the output off wherever the pipe stopped draining (issue
 * 12: 131,072 of 478,224 bytes through `| wc -c`). So every write here is awaited, a
 * full pipe holds the writer until it drains (a large table streams instead of
 * building up in memory), and `finish()` resolves only when the last byte was handed
 * to the kernel. A reader that goes away (`| head`) ends the output quietly: EPIPE
 * makes `closed` true and every later write a no-op, and the command exits with its
 * own status, no stack trace.
 */
export class Output {
  private closed_ = false;

  constructor(private readonly stream: NodeJS.WritableStream & { writableLength?: number } = process.stdout) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      // Only a reader that went away is expected; anything else is reported once and ends output too.
      if (e.code !== 'EPIPE') process.stderr.write(`gleand: stdout: ${e.message}\n`);
      this.closed_ = true;
    });
  }

  /** The reader went away: stop producing. */
  get closed(): boolean {
    return this.closed_;
  }

  /** Resolves once `text` is written, or at once when the stream can take more. */
  write(text: string): Promise<void> {
    if (this.closed_ || text === '') return Promise.resolve();
    if (this.stream.write(text)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { this.stream.off('drain', done); this.stream.off('error', done); this.stream.off('close', done); resolve(); };
      this.stream.once('drain', done);
      this.stream.once('error', done);
      this.stream.once('close', done);
    });
  }

  /** Resolves when everything written so far has left the process (or the reader is gone). */
  finish(): Promise<void> {
    if (this.closed_) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { this.stream.off('error', done); resolve(); };
      this.stream.once('error', done);
      this.stream.write('', () => done());
    });
  }
}
