// The metrics reader: the identity a Prometheus server scrapes kcs as.
// `kcs up` mints its token (`<state dir>/metrics.token`), and it may do one
// thing: what Kubernetes authorizes as the non-resource URL `get /metrics`.
// It reads no objects and writes nothing, so a token handed to a monitoring
// system gives away nothing else. (Admins may read /metrics too.)
import { TokenAuthenticator, type RequestAttributes, type User } from './auth.ts';

export const METRICS_PATH = '/metrics';
export const METRICS_GROUP = 'system:kcs-metrics';
export const METRICS_USER: User = { name: 'system:kcs-metrics-reader', groups: [METRICS_GROUP] };

export function metricsTokenAuthenticator(token: string): TokenAuthenticator {
  return new TokenAuthenticator({ [token]: METRICS_USER });
}

export function isMetricsReader(user: User): boolean {
  return user.groups.includes(METRICS_GROUP);
}

export function metricsReaderMay(attrs: RequestAttributes): boolean {
  return attrs.verb === 'get' && attrs.path === METRICS_PATH;
}
