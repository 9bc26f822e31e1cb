/**
 * The CLI's stdout. A pipe's writes are asynchronous to Node: `process.exit` right
 * after a large `write` cuts the output off wherever the pipe stopped draining (issue
 * 12: 131,072 of 478,224 bytes through `| wc -c`). So every write here is awaited, a
 * full pipe holds the writer until it drains (a large table streams instead of
 * building up in memory), and `finish()` resolves only when the last byte was handed
 * to the kernel. Small writes are gathered into pieces of PIECE_BYTES (a table row is
 * not a syscall). A reader that goes away (`| head`) ends the output quietly: EPIPE
 * makes `closed` true and every later write a no-op, and the command exits with its
 * own status, no stack trace.
 */
export class Output {
  /** Text is handed to the stream in pieces of about this size: one write per row would be a syscall per row. */
  static readonly PIECE_BYTES = 64 * 1024;
  private closed_ = false;
  private pending = '';

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

  /** Resolves at once while the stream can take more; when it is full, once it drained. */
  write(text: string): Promise<void> {
    if (this.closed_) return Promise.resolve();
    this.pending += text;
    return this.pending.length >= Output.PIECE_BYTES ? this.flush() : Promise.resolve();
  }

  private flush(): Promise<void> {
    const text = this.pending;
    this.pending = '';
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
  async finish(): Promise<void> {
    await this.flush();
    if (this.closed_) return;
    await new Promise<void>((resolve) => {
      const done = () => { this.stream.off('error', done); resolve(); };
      this.stream.once('error', done);
      this.stream.write('', () => done());
    });
  }
}
