// What `kcs top nodes` and `kcs top pods` share: their table flags, and
// --watch, the table drawn again every interval until Ctrl-C, over the
// previous one on a terminal, one after another otherwise.
import * as Flags from '@oclif/core/flags';
import { SORT_KEYS } from './top.ts';

export const topFlags = {
  'sort-by': Flags.string({ summary: 'Sort by cpu or memory (largest first).', options: [...SORT_KEYS] }),
  'no-headers': Flags.boolean({ summary: 'Print the table without the header row.' }),
  watch: Flags.boolean({ char: 'w', summary: 'Redraw the table every interval until interrupted.' }),
  interval: Flags.integer({ summary: 'Seconds between redraws with --watch.', default: 2, min: 1 }),
};

export async function untilInterrupted(intervalSeconds: number, draw: () => Promise<string>, print: (text: string) => void): Promise<void> {
  let stopped = false;
  process.once('SIGINT', () => { stopped = true; });
  const tty = process.stdout.isTTY;
  while (!stopped) {
    const text = await draw();
    // Clear and home, so the table stays in place as it changes.
    print(tty ? `\x1b[2J\x1b[H${text}` : `${text}\n`);
    await new Promise((r) => setTimeout(r, intervalSeconds * 1000));
  }
}
