// The Leases the controllers elect their leader by (controllers/leader-election.ts):
// named here, below both the elector and the authorizer that lets the
// controllers' identity write them (api/controller-auth.ts).

/** The Lease the controllers of a cluster are elected by (kube-controller-manager's is named so too). */
export const CONTROLLER_LEASE_NAME = 'kcs-controller-manager';
/** The Lease of API servers without a runtime, which run the namespace controller and the garbage collector only. */
export const NAMESPACE_CONTROLLER_LEASE_NAME = 'kcs-namespace-controller';
export const CONTROLLER_LEASE_NAMESPACE = 'kube-system';
/** The Leases the controllers' identity may write. */
export const CONTROLLER_LEASE_NAMES: readonly string[] = [CONTROLLER_LEASE_NAME, NAMESPACE_CONTROLLER_LEASE_NAME];
