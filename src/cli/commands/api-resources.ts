import * as Flags from '@oclif/core/flags';
import type { Client } from '../../client/http.ts';
import { ClientCommand, connectionFlags } from '../base.ts';
import { renderTable } from '../printers/table.ts';

/** One resource as discovery lists it (an APIResource of /api/v1 or /apis/{group}/{version}). */
interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export interface DiscoveredResource extends ApiResource {
  group: string;
  groupVersion: string;
}

/**
 * Every resource the server serves, at each group's preferred version, read
 * from the plain discovery documents as kubectl reads them; subresources
 * (pods/status) are left out, as kubectl api-resources leaves them out.
 */
export async function discoverResources(client: Client): Promise<DiscoveredResource[]> {
  const [core, groups] = await Promise.all([
    client.request<{ versions: string[] }>('GET', '/api'),
    client.request<{ groups: Array<{ name: string; preferredVersion: { groupVersion: string } }> }>('GET', '/apis'),
  ]);
  const versions = [
    ...core.body.versions.slice(0, 1).map((v) => ({ group: '', groupVersion: v, path: `/api/${v}` })),
    ...groups.body.groups.map((g) => ({ group: g.name, groupVersion: g.preferredVersion.groupVersion, path: `/apis/${g.preferredVersion.groupVersion}` })),
  ];
  const lists = await Promise.all(versions.map((v) => client.request<{ resources: ApiResource[] }>('GET', v.path)));
  return versions.flatMap((v, i) => lists[i]!.body.resources
    .filter((r) => !r.name.includes('/'))
    .map((r) => ({ ...r, group: v.group, groupVersion: v.groupVersion })));
}

export default class ApiResources extends ClientCommand {
  static override summary = 'List the resource types the server serves, as kubectl api-resources does.';
  static override examples = [
    '<%= config.bin %> api-resources',
    '<%= config.bin %> api-resources --namespaced=false',
    '<%= config.bin %> api-resources -o wide',
    '<%= config.bin %> api-resources --verbs=list -o name',
  ];
  static override flags = {
    ...connectionFlags,
    output: Flags.string({ char: 'o', summary: 'Output format: wide adds VERBS and CATEGORIES; name prints resource.group.', options: ['wide', 'name'] }),
    namespaced: Flags.boolean({ summary: 'Only namespaced resources; --namespaced=false: only cluster-scoped ones. Unset: both.', allowNo: true }),
    'api-group': Flags.string({ summary: 'Only resources in this API group ("" for the core group).' }),
    verbs: Flags.string({ summary: 'Only resources that support all these verbs (comma-separated).', multiple: true, delimiter: ',' }),
    'no-headers': Flags.boolean({ summary: 'Print the table without the header row.' }),
    'sort-by': Flags.string({ summary: 'Sort by this field instead of by group.', options: ['name', 'kind'] }),
  };

  async run(): Promise<DiscoveredResource[]> {
    // kubectl spells it --namespaced=false; oclif's booleans take no value.
    const argv = this.argv.map((a) => (/^--namespaced=false$/i.test(a) ? '--no-namespaced' : /^--namespaced=true$/i.test(a) ? '--namespaced' : a));
    const { flags } = await this.parse(ApiResources, argv);
    const namespaced = flags.namespaced;
    const wanted = flags.verbs ?? [];
    const all = await discoverResources(this.client(flags));
    const resources = all
      .filter((r) => namespaced === undefined || r.namespaced === namespaced)
      .filter((r) => flags['api-group'] === undefined || r.group === flags['api-group'])
      .filter((r) => wanted.every((v) => r.verbs.includes(v)))
      // By group (the core group first) unless told otherwise, ties in the server's order, as kubectl sorts.
      .map((r, i) => ({ r, i, key: flags['sort-by'] === 'name' ? r.name : flags['sort-by'] === 'kind' ? r.kind : r.group }))
      .sort((a, b) => (a.key === b.key ? a.i - b.i : a.key < b.key ? -1 : 1))
      .map(({ r }) => r);

    if (flags.output === 'name') {
      for (const r of resources) this.log(r.group ? `${r.name}.${r.group}` : r.name);
      return resources;
    }
    const wide = flags.output === 'wide';
    const headers = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS', 'CATEGORIES'] : [])];
    const rows = resources.map((r) => [
      r.name, (r.shortNames ?? []).join(','), r.groupVersion, String(r.namespaced), r.kind,
      ...(wide ? [r.verbs.join(','), (r.categories ?? []).join(',')] : []),
    ]);
    this.log(renderTable(headers, rows, { noHeaders: flags['no-headers'] }));
    return resources;
  }
}
