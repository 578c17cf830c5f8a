// Events about manifest files. A broken file is not an API object, so the
// Event's involvedObject is a pseudo-object, as Kubernetes allows:
//   { apiVersion: kcs.io/v1, kind: ManifestFile, name: <file relative to the directory> }
// in the default namespace, with the directory in reportingInstance, so
// `kcs get events` lists them as manifestfile/<file>. The same problem again
// bumps the count of its Event instead of adding another.
import { randomBytes } from 'node:crypto';
import type { KcsClient } from '../client/interface.ts';
import { DEFAULT_NAMESPACE, kindByName } from '../objects/kinds.ts';
import { rfc3339, systemClock, type Clock } from '../util/clock.ts';

const EVENT = kindByName('Event')!;

export const FILE_KIND = 'ManifestFile';
export const SYNC_FAILED = 'SyncFailed';
export const SYNC_RECOVERED = 'Synced';
export const COMPONENT = 'gitops';

export class FileEventReporter {
  private readonly client: KcsClient;
  private readonly root: string;
  private readonly log: (message: string) => void;
  private readonly clock: Clock;
  private readonly recent = new Map<string, { name: string; count: number }>();

  constructor(client: KcsClient, root: string, log: (message: string) => void = () => {}, clock: Clock = systemClock) {
    this.client = client;
    this.root = root;
    this.log = log;
    this.clock = clock;
  }

  warn(file: string, message: string): Promise<void> {
    return this.record(file, 'Warning', SYNC_FAILED, message);
  }

  recovered(file: string): Promise<void> {
    return this.record(file, 'Normal', SYNC_RECOVERED, `${file}: applied again after an error`);
  }

  private async record(file: string, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const key = `${file}\0${reason}\0${message}`;
    const now = rfc3339(this.clock.now());
    // Event messages are limited to 4 KiB by the schema.
    const text = message.length > 4000 ? `${message.slice(0, 3997)}...` : message;
    try {
      const seen = this.recent.get(key);
      if (seen) {
        seen.count++;
        await this.client.patch(EVENT, DEFAULT_NAMESPACE, seen.name, { count: seen.count, lastTimestamp: now });
        return;
      }
      const name = `gitops.${randomBytes(8).toString('hex')}`;
      await this.client.create(EVENT, DEFAULT_NAMESPACE, {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name, namespace: DEFAULT_NAMESPACE },
        involvedObject: { apiVersion: 'kcs.io/v1', kind: FILE_KIND, name: file },
        reason, message: text, type, count: 1, firstTimestamp: now, lastTimestamp: now,
        source: { component: COMPONENT }, reportingComponent: COMPONENT, reportingInstance: this.root,
      });
      if (this.recent.size > 1000) this.recent.clear();
      this.recent.set(key, { name, count: 1 });
    } catch (err) {
      this.recent.delete(key);
      this.log(`gitops: could not record event ${reason} for ${file}: ${(err as Error).message}`);
    }
  }
}
