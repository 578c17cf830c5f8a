// The cluster's two ranges (--cluster-cidr, --service-cluster-ip-range):
// a usable one is cut into node /24s or cluster IPs; one that is not
// loopback, overlaps 127.0.0.0/16, is the wrong size, has host bits set, or
// overlaps the other is refused with the reason.
import test from 'ava';
import { clusterNetworks, DEFAULT_NETWORKS, NetworkRangeError, PodNetwork } from '../../src/objects/cluster-networks.ts';

test('the defaults: node /24s of 127.64.0.0/10 and cluster IPs of 127.32.0.0/16', (t) => {
  t.is(DEFAULT_NETWORKS.pods.cidr, '127.64.0.0/10');
  t.is(DEFAULT_NETWORKS.services.cidr, '127.32.0.0/16');
});

test('a cluster CIDR of its own is cut into /24s of it, and a /24 of another network is none of its', (t) => {
  const net = new PodNetwork('127.200.0.0/14');
  t.is(net.count, 1024);
  t.is(net.cidrAt(0), '127.200.0.0/24');
  t.is(net.cidrAt(257), '127.201.1.0/24');
  t.is(net.cidrAt(1023), '127.203.255.0/24');
  t.is(net.indexOf('127.201.1.0/24'), 257);
  for (const other of ['127.64.0.0/24', '127.199.255.0/24', '127.204.0.0/24', '127.200.0.0/16', '127.200.0.5/24', 'nonsense']) t.is(net.indexOf(other), undefined, other);
  t.is(new PodNetwork('127.90.3.0/24').count, 1, 'a /24 is one node\'s');
});

test('ranges kcs cannot use are refused with the reason', (t) => {
  const refused = (opts: Parameters<typeof clusterNetworks>[0], why: RegExp) => {
    const err = t.throws(() => clusterNetworks(opts), { instanceOf: NetworkRangeError });
    t.regex(err!.message, why, JSON.stringify(opts));
  };
  refused({ clusterCidr: '10.64.0.0/10' }, /cluster CIDR "10\.64\.0\.0\/10" must lie within 127\.0\.0\.0\/8/);
  refused({ clusterCidr: '127.0.0.0/12' }, /must not overlap 127\.0\.0\.0\/16/);
  refused({ clusterCidr: '127.64.0.1/10' }, /host bits set \(the network is 127\.64\.0\.0\/10\)/);
  refused({ clusterCidr: '127.64.0.0/25' }, /must be a \/9 to a \/24/);
  refused({ clusterCidr: '127.0.0.0/8' }, /must be a \/9 to a \/24/);
  refused({ clusterCidr: '127.64.0.0' }, /must be an IPv4 CIDR/);
  refused({ serviceCidr: '127.32.0.0/31' }, /service cluster IP range "127\.32\.0\.0\/31" must be a \/12 to a \/30/);
  refused({ serviceCidr: '127.96.0.0/11' }, /must be a \/12 to a \/30/);
  refused({ serviceCidr: '192.168.0.0/16' }, /must lie within 127\.0\.0\.0\/8/);
  refused({ serviceCidr: '127.64.5.0/24' }, /service cluster IP range 127\.64\.5\.0\/24 overlaps the cluster CIDR 127\.64\.0\.0\/10/);
  refused({ clusterCidr: '127.32.0.0/12' }, /overlaps the cluster CIDR/);
});

test('two clusters\' ranges side by side: each usable, and the service range as given', (t) => {
  const second = clusterNetworks({ clusterCidr: '127.128.0.0/10', serviceCidr: '127.33.0.0/16' });
  t.is(second.pods.cidrAt(0), '127.128.0.0/24');
  t.deepEqual({ ...second.services }, { cidr: '127.33.0.0/16', first: DEFAULT_NETWORKS.services.first + 65536, last: DEFAULT_NETWORKS.services.last + 65536 });
});
