// Newline-delimited JSON (one JSON value per line) read as it streams in: a
// watch response, the Docker daemon's event stream. A chunk may end anywhere,
// inside a line or inside a multi-byte character.

export interface NdjsonOptions {
  /**
   * Called with a line that is not JSON, which is then skipped. Without it,
   * a bad line throws (see NdjsonParser).
   */
  onBadLine?: (line: string, err: SyntaxError) => void;
}

/**
 * Splits chunks into lines and calls back with each line's parsed JSON, in
 * order:
 * - a line split across chunks waits in a buffer for the rest of it;
 * - blank lines (whitespace only; `\r\n` endings are fine) are skipped;
 * - a last line without a newline is parsed by end(); a caller that never
 *   calls end() drops it (a stream cut mid-line leaves half a value);
 * - a line that is not JSON goes to onBadLine when there is one and is
 *   skipped; otherwise push() or end() throws a SyntaxError quoting it. The
 *   lines before it have been delivered; those after it stay buffered for
 *   the next push() or end(). The same holds when onValue throws.
 * String chunks are taken as they are; byte chunks are decoded as UTF-8.
 * T is what the caller expects each line to hold: nothing is checked.
 */
export class NdjsonParser<T = unknown> {
  private buffered = '';
  private readonly decoder = new TextDecoder();
  private readonly onBadLine: NdjsonOptions['onBadLine'];

  constructor(options: NdjsonOptions = {}) {
    this.onBadLine = options.onBadLine;
  }

  /** Adds a chunk and calls onValue for each complete line it ends. */
  push(chunk: string | Uint8Array, onValue: (value: T) => void): void {
    this.buffered += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let start = 0;
    try {
      for (let nl: number; (nl = this.buffered.indexOf('\n', start)) >= 0;) {
        const line = this.buffered.slice(start, nl);
        start = nl + 1;
        this.parse(line, onValue);
      }
    } finally {
      this.buffered = this.buffered.slice(start);
    }
  }

  /** The stream has ended: calls onValue for a last line that had no newline. */
  end(onValue: (value: T) => void): void {
    const rest = this.buffered + this.decoder.decode();
    this.buffered = '';
    this.parse(rest, onValue);
  }

  private parse(line: string, onValue: (value: T) => void): void {
    if (!line.trim()) return;
    let value: T;
    try {
      value = JSON.parse(line) as T;
    } catch (err) {
      if (!this.onBadLine) throw new SyntaxError(`not a JSON line: ${line.length > 200 ? `${line.slice(0, 200)}...` : line}`, { cause: err });
      this.onBadLine(line, err as SyntaxError);
      return;
    }
    onValue(value);
  }
}
