// `kcs config view`'s rules, as kubectl config view applies them: secrets
// hidden unless --raw (certificate and key data as DATA+OMITTED, tokens and
// passwords as REDACTED), --minify keeping only the current context and what
// it names, keys in the order kubectl prints them (sorted).

type Named<T> = { name: string } & T;
export interface KubeconfigFile {
  clusters?: Array<Named<{ cluster: Record<string, unknown> }>>;
  users?: Array<Named<{ user: Record<string, unknown> }>>;
  contexts?: Array<Named<{ context: { cluster?: string; user?: string; namespace?: string } }>>;
  'current-context'?: string;
  [key: string]: unknown;
}

export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

const OMITTED_DATA = ['certificate-authority-data', 'client-certificate-data', 'client-key-data'];
const REDACTED = ['token', 'password'];

export function viewKubeconfig(config: KubeconfigFile, opts: { raw?: boolean; minify?: boolean }): KubeconfigFile {
  let view: KubeconfigFile = structuredClone(config);
  if (opts.minify) {
    const current = view['current-context'];
    if (!current) throw new KubeconfigError('current-context must exist in order to minify');
    const ctx = view.contexts?.find((c) => c.name === current);
    if (!ctx) throw new KubeconfigError(`cannot locate context ${current}`);
    view = {
      ...view,
      contexts: [ctx],
      clusters: (view.clusters ?? []).filter((c) => c.name === ctx.context.cluster),
      users: (view.users ?? []).filter((u) => u.name === ctx.context.user),
    };
  }
  if (!opts.raw) {
    for (const c of view.clusters ?? []) hide(c.cluster);
    for (const u of view.users ?? []) hide(u.user);
  }
  return { apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], contexts: [], users: [], 'current-context': '', ...view };
}

function hide(entry: Record<string, unknown> | undefined): void {
  if (!entry) return;
  for (const k of OMITTED_DATA) if (entry[k]) entry[k] = 'DATA+OMITTED';
  for (const k of REDACTED) if (entry[k]) entry[k] = 'REDACTED';
}
