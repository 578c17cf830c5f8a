// The resource kinds the API serves, described once: how they are named in
// URLs and on the command line, and whether they live in a namespace.

export interface KindInfo {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  apiVersion: string;
}

export const KINDS: KindInfo[] = [
  { kind: 'Node', listKind: 'NodeList', plural: 'nodes', singular: 'node', shortNames: ['no'], namespaced: false, apiVersion: 'v1' },
  { kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod', shortNames: ['po'], namespaced: true, apiVersion: 'v1' },
];

export const DEFAULT_NAMESPACE = 'default';

export function kindByName(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

/** Resolves what a user types (`nodes`, `node`, `no`, `Node`) to a kind. */
export function kindByAlias(alias: string): KindInfo | undefined {
  const a = alias.toLowerCase();
  return KINDS.find((k) => k.plural === a || k.singular === a || k.shortNames.includes(a) || k.kind.toLowerCase() === a);
}

export function kindByPlural(plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === plural);
}
