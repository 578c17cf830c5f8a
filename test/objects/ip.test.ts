// IPv4 arithmetic for the cluster IP allocator: canonical parsing only, the
// usable addresses of a range, and the first one free.
import test from 'ava';
import { firstFree, formatIpv4, inRange, ipv4Range, parseIpv4 } from '../../src/objects/ip.ts';

test('parses canonical dotted quads and formats them back', (t) => {
  for (const ip of ['0.0.0.0', '127.32.0.1', '255.255.255.255', '10.96.0.10']) t.is(formatIpv4(parseIpv4(ip)!), ip);
  t.is(parseIpv4('127.32.1.2'), (127 << 24 >>> 0) + (32 << 16) + (1 << 8) + 2);
});

test('refuses what is not a canonical IPv4 address', (t) => {
  for (const bad of ['', '127.32.0', '127.32.0.1.5', '256.0.0.1', '127.032.0.1', '127.32.0.-1', ' 127.32.0.1', '127.32.0.1/32', '::1', 'None', 'a.b.c.d']) {
    t.is(parseIpv4(bad), undefined, bad);
  }
});

test('a range leaves out its network and broadcast addresses', (t) => {
  const range = ipv4Range('127.32.0.0/16');
  t.is(formatIpv4(range.first), '127.32.0.1');
  t.is(formatIpv4(range.last), '127.32.255.254');
  t.false(inRange(range, parseIpv4('127.32.0.0')!));
  t.false(inRange(range, parseIpv4('127.32.255.255')!));
  t.true(inRange(range, parseIpv4('127.32.128.7')!));
  t.false(inRange(range, parseIpv4('127.33.0.1')!));
  t.false(inRange(range, parseIpv4('10.96.0.1')!));
});

test('malformed ranges are refused', (t) => {
  t.throws(() => ipv4Range('127.32.0.1/16'), { message: /host bits/ });
  t.throws(() => ipv4Range('127.32.0.0'));
  t.throws(() => ipv4Range('127.32.0.0/31'));
});

test('the first free address is the lowest not taken, and none when all are', (t) => {
  const range = ipv4Range('127.32.0.0/30');
  const ip = (s: string) => parseIpv4(s)!;
  t.is(firstFree(range, new Set()), ip('127.32.0.1'));
  t.is(firstFree(range, new Set([ip('127.32.0.1')])), ip('127.32.0.2'));
  t.is(firstFree(range, new Set([ip('127.32.0.2')])), ip('127.32.0.1'), 'a gap is filled first');
  t.is(firstFree(range, new Set([ip('127.32.0.1'), ip('127.32.0.2')])), undefined);
});
