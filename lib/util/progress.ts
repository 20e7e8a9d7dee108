/**
 * Progress for long work: a bar with rate and ETA on a terminal, plain lines (at most one per `plainEverySec`) when
 * output is not a TTY (CI logs, notebooks). Writes to stderr so results printed on stdout stay clean.
 */
export interface ProgressOptions {
  /** Label shown before the bar. */
  label: string;
  total: number;
  /** Force plain-line mode (default: plain when stderr is not a TTY). */
  plain?: boolean;
  /** Minimum seconds between plain lines. */
  plainEverySec?: number;
  /** Stream (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Silence entirely (tests). */
  silent?: boolean;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class Progress {
  private readonly start = Date.now();
  private lastPlain = 0;
  private done = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly plain: boolean;
  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.plain = opts.plain ?? !this.stream.isTTY;
  }

  /** Set the number of finished units and an optional status text (e.g. `loss 1.23`). */
  update(done: number, status = ''): void {
    this.done = done;
    if (this.opts.silent) return;
    const elapsed = (Date.now() - this.start) / 1000;
    const frac = this.opts.total > 0 ? Math.min(1, done / this.opts.total) : 1;
    const eta = done > 0 ? (elapsed / done) * (this.opts.total - done) : NaN;
    const text = `${done}/${this.opts.total} ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}${status ? `  ${status}` : ''}`;
    if (this.plain) {
      const now = Date.now();
      if (now - this.lastPlain >= (this.opts.plainEverySec ?? 5) * 1000 || done >= this.opts.total) {
        this.lastPlain = now;
        this.stream.write(`${this.opts.label}: ${(frac * 100).toFixed(0)}% ${text}\n`);
      }
      return;
    }
    const width = 24;
    const fill = Math.round(frac * width);
    this.stream.write(`\r${this.opts.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}\x1b[K`);
  }

  tick(status = ''): void {
    this.update(this.done + 1, status);
  }

  /** Finish the bar (newline on a TTY). */
  end(status = ''): void {
    if (this.done < this.opts.total) this.update(this.opts.total, status);
    if (!this.opts.silent && !this.plain) this.stream.write('\n');
  }
}
