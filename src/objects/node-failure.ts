// A failure asked for through the API, for demonstrations: `kcs fail node`
// (and the dashboard's "fail" button) set this annotation on a Node; the node
// controller carries it out on the node's machine (kills its container, or
// stops a virtual node's agent) and records the value it carried out in the
// Node's status (failureCarriedOut), so each request is carried out once
// and a new one is a new value. From there the
// failure runs its ordinary course: heartbeats stop, the node is declared
// failed, its pods move, and the machine is restarted.

/** Set to the time it was asked (RFC 3339): a value not yet carried out is a request. */
export const FAIL_NODE = 'kcs.io/fail-requested';
