// A "3s ago" that ticks: one timer for the whole page writes the text of
// every such span straight into the DOM once a second, so a thousand
// ticking heartbeats cost no renders.
import { useEffect, useRef } from 'preact/hooks';
import { ago } from '../format.ts';

const spans = new Map<HTMLElement, number>();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  const now = Date.now();
  for (const [el, t] of spans) el.textContent = ago(now - t);
}

export function Since({ t, label }: { t: number | undefined; label?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || t === undefined) return;
    spans.set(el, t);
    el.textContent = ago(Date.now() - t);
    timer ??= setInterval(tick, 1000);
    return () => { spans.delete(el); };
  }, [t]);
  return <span ref={ref} class="since" aria-label={label}>{t === undefined ? 'never' : ''}</span>;
}
