/** The kcs release, shown by `kcs version` and /version. */
export const KCS_VERSION = '0.1.0';
/** The Kubernetes API version kcs models its wire format on. */
export const KUBE_COMPAT = { major: '1', minor: '32' };
