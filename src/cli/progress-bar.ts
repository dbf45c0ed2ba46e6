/**
 * A one-line progress bar on standard error, drawn only on a terminal and at most four times a
 * second, so piping or redirecting the output never gets control characters.
 */

export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY;
  }

  update(done: number, total: number | null): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 250) return;
    this.lastDraw = now;
    const width = 30;
    let line: string;
    if (total && total > 0) {
      const fraction = Math.min(1, done / total);
      const filled = Math.round(fraction * width);
      line = `${this.label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}% ${mib(done)}/${mib(total)}`;
    } else {
      line = `${this.label} ${mib(done)} read`;
    }
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
