// Events about manifest files. A broken file is not an API object, so the
// Event's involvedObject is a pseudo-object, as Kubernetes allows:
//   { apiVersion: kcs.io/v1, kind: ManifestFile, name: <file relative to the directory> }
// in the default namespace, with the directory in reportingInstance, so
// `kcs get events` lists them as manifestfile/<file>. Recording (counting
// repeats, capping the message) is the client's EventRecorder.
import { EventRecorder, type ObjectReference } from '../client/events.ts';
import type { KcsClient } from '../client/interface.ts';
import type { Clock } from '../util/clock.ts';

export const FILE_KIND = 'ManifestFile';
export const SYNC_FAILED = 'SyncFailed';
export const SYNC_RECOVERED = 'Synced';
export const COMPONENT = 'gitops';

/** The pseudo-object standing for a file of the watched directory. */
export function manifestFile(file: string): ObjectReference {
  return { apiVersion: 'kcs.io/v1', kind: FILE_KIND, name: file };
}

export class FileEventReporter {
  private readonly events: EventRecorder;

  constructor(client: KcsClient, root: string, log: (message: string) => void = () => {}, clock?: Clock) {
    this.events = new EventRecorder(client, COMPONENT, { clock, log: (m) => log(`${COMPONENT}: ${m}`), reportingInstance: root });
  }

  warn(file: string, message: string): Promise<void> {
    return this.events.record(manifestFile(file), 'Warning', SYNC_FAILED, message);
  }

  recovered(file: string): Promise<void> {
    return this.events.record(manifestFile(file), 'Normal', SYNC_RECOVERED, `${file}: applied again after an error`);
  }
}
