// The one table printer: left-aligned columns separated by three spaces,
// upper-case headers, as kubectl draws them.

function widthsOf(rows: string[][], columns: number): number[] {
  // A loop, not Math.max(...cells): spread arguments overflow the stack at 150,000 rows.
  const widths = new Array<number>(columns).fill(0);
  for (const r of rows) for (let i = 0; i < columns; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  return widths;
}

function line(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i === cells.length - 1 ? cell : (cell ?? '').padEnd(widths[i]))).join('   ').trimEnd();
}

export function renderTable(headers: string[], rows: string[][], opts: { noHeaders?: boolean } = {}): string {
  const all = opts.noHeaders ? rows : [headers, ...rows];
  const widths = widthsOf([headers, ...rows], headers.length);
  return all.map((r) => line(r, widths)).join('\n');
}

/**
 * A table printed row by row (`kcs get -w`): later rows keep the column
 * widths of what was printed before, growing only when a cell is wider.
 */
export class StreamingTable {
  private widths: number[];

  constructor(headers: string[], initialRows: string[][]) {
    this.widths = widthsOf([headers, ...initialRows], headers.length);
  }

  row(cells: string[]): string {
    this.widths = this.widths.map((w, i) => Math.max(w, (cells[i] ?? '').length));
    return line(cells, this.widths);
  }
}
