// The cluster's events as they happen, newest first, filterable by the
// object they are about and by type.
import { useState } from 'preact/hooks';
import { eventTime, type KubeEvent } from '../cluster.ts';
import { clock } from '../format.ts';

const SHOWN = 200;

export function objectOf(e: KubeEvent): string {
  const o = e.involvedObject;
  return `${(o.kind ?? '').toLowerCase()}/${o.namespace && o.kind !== 'Node' ? `${o.namespace}/` : ''}${o.name ?? ''}`;
}

export function EventList({ events, empty }: { events: KubeEvent[]; empty: string }) {
  if (!events.length) return <p class="muted">{empty}</p>;
  return (
    <ol class="events">
      {events.slice(0, SHOWN).map((e) => (
        <li key={e.metadata.uid ?? e.metadata.name} class={`event event-${(e.type ?? 'Normal').toLowerCase()}`}>
          <time dateTime={new Date(eventTime(e)).toISOString()}>{clock(eventTime(e))}</time>
          <span class="event-reason">{e.reason}</span>
          <span class="event-object">{objectOf(e)}</span>
          <span class="event-message">{e.message}{(e.count ?? 1) > 1 ? ` (×${e.count})` : ''}</span>
        </li>
      ))}
    </ol>
  );
}

export function EventStream({ events }: { events: KubeEvent[] }) {
  const [object, setObject] = useState('');
  const [type, setType] = useState('');
  const needle = object.trim().toLowerCase();
  const shown = events.filter((e) => (!type || e.type === type) && (!needle || objectOf(e).includes(needle)));
  return (
    <section class="panel" aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <div class="filters">
        <label>Object <input type="search" value={object} placeholder="node/n1, pod/web" onInput={(e) => setObject((e.target as HTMLInputElement).value)} /></label>
        <label>Type
          <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            <option value="Normal">Normal</option>
            <option value="Warning">Warning</option>
          </select>
        </label>
      </div>
      <EventList events={shown} empty="No events match." />
    </section>
  );
}
