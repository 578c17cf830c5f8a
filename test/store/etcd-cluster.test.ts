// A control plane on a 3-member etcd cluster whose leader is killed, then
// restarted, while clients write through the API: the cluster goes on with
// 2 of 3 members, every write the API acknowledged is there (through the
// API, and in each member's own copy, the restarted one's once it has
// caught up), and the API server stays up. A write the API did not
// acknowledge (a 503, or a 409 for a retried commit) may or may not have
// happened, as with Kubernetes on etcd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3, type IStatusResponse } from 'etcd3';
import { startControlPlane } from '../../src/control-plane.ts';
import { startEtcdCluster, type EtcdCluster, type EtcdMember } from '../../tools/etcd-process.ts';
import { client, type Client, type Reply } from '../api/helpers.ts';
import { etcdTest } from '../support/etcd.ts';
import { eventually } from '../support/eventually.ts';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
const WRITERS = 4;
/** Writes acknowledged in each phase before the test moves on. */
const WRITES_PER_PHASE = 40;
const REFUSED_BACKOFF_MS = 20;
/** A phase may wait out calls on the lost member's deadline (5 s) and an election. */
const PHASE_TIMEOUT_MS = 60_000;

const lease = (name: string, holder: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: holder } });

/** What a reader found of one Lease: the content written, and its version. */
interface Held { holder: string; resourceVersion: string }
type LeaseJson = { metadata: { name: string; resourceVersion: string }; spec: { holderIdentity: string } };
const heldBy = (l: LeaseJson): Held => ({ holder: l.spec.holderIdentity, resourceVersion: l.metadata.resourceVersion });

interface Answered {
  name: string;
  /** The content written: the Lease's holder. */
  holder: string;
  status: number;
  /** Set when acknowledged (2xx). */
  resourceVersion?: string;
  /** Why not, when not acknowledged: the Status message. */
  refusal?: string;
  sentAt: number;
  answeredAt: number;
}

/** Every write the writers sent, by its answer; and per object, what it must hold now. */
class WriteLog {
  readonly answered: Answered[] = [];
  /**
   * The object's last acknowledged write, and the write after it that was
   * not acknowledged (writers send nothing more to that object), which may
   * or may not have been applied.
   */
  readonly objects = new Map<string, { acknowledged?: Answered; unknown?: string }>();

  record(write: Answered): void {
    this.answered.push(write);
    const object = this.objects.get(write.name) ?? {};
    if (write.resourceVersion) object.acknowledged = write;
    else object.unknown = write.holder;
    this.objects.set(write.name, object);
  }

  acknowledged(): Answered[] {
    return this.answered.filter((w) => w.resourceVersion);
  }

  /** The writes sent at or after from and answered by until. */
  within(from: number, until = Infinity): Answered[] {
    return this.answered.filter((w) => w.sentAt >= from && w.answeredAt <= until);
  }
}

/** The distinct answers of the writes that were not acknowledged, with how many got each. */
function refusalsIn(writes: Answered[]): string {
  const counts = new Map<string, number>();
  for (const w of writes) if (!w.resourceVersion) counts.set(`${w.status} ${w.refusal}`, (counts.get(`${w.status} ${w.refusal}`) ?? 0) + 1);
  return [...counts].map(([answer, n]) => `${n} × ${answer}`).join('; ') || 'none refused';
}

/** Sends one write and logs its answer; a request the API never answered is status 0. */
async function send(log: WriteLog, name: string, holder: string, request: () => Promise<Reply>): Promise<Reply | undefined> {
  const sentAt = Date.now();
  const res = await request().catch((err: Error) => ({ status: 0, text: err.message, body: undefined }) as Reply);
  const acknowledged = res.status >= 200 && res.status < 300;
  log.record({
    name, holder, status: res.status, sentAt, answeredAt: Date.now(),
    ...(acknowledged ? { resourceVersion: res.body.metadata.resourceVersion } : { refusal: res.body?.message ?? res.text }),
  });
  if (acknowledged) return res;
  // A refused client waits a little before its next write, as clients back off.
  await new Promise((r) => setTimeout(r, REFUSED_BACKOFF_MS));
  return undefined;
}

/** Creates Leases one after another, updating every other one once, until told to stop. */
async function writeUntilStopped(api: Client, writer: number, log: WriteLog, stopped: () => boolean): Promise<void> {
  for (let i = 0; !stopped(); i++) {
    const name = `writer-${writer}-${i}`;
    const created = await send(log, name, `${name}-created`, () => api.post(LEASES, lease(name, `${name}-created`)));
    if (!created || i % 2 || stopped()) continue;
    await send(log, name, `${name}-updated`, () => api.put(`${LEASES}/${name}`, { ...created.body, spec: { holderIdentity: `${name}-updated` } }));
  }
}

/** One member's own view: its member id, the leader it follows, its revision. */
async function statusOf(member: EtcdMember): Promise<IStatusResponse> {
  const etcd = new Etcd3({ hosts: `http://${member.endpoint}` });
  try {
    return await etcd.maintenance.status();
  } finally {
    etcd.close();
  }
}

async function leaderOf(cluster: EtcdCluster): Promise<EtcdMember> {
  const statuses = await Promise.all(cluster.members.map(statusOf));
  const index = statuses.findIndex((s) => s.header.member_id === s.leader);
  if (index < 0) throw new Error(`no member says it leads: ${JSON.stringify(statuses)}`);
  return cluster.members[index]!;
}

/** The holder and mod revision of each Lease in the member's own copy (a serializable read: nothing asked of the leader). */
async function leasesHeldBy(member: EtcdMember): Promise<Map<string, Held>> {
  const etcd = new Etcd3({ hosts: `http://${member.endpoint}` });
  try {
    const prefix = Buffer.from('/registry/leases/default/');
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1;
    const res = await etcd.kv.range({ key: prefix, range_end: end, serializable: true });
    return new Map(res.kvs.map((kv) => [kv.key.toString().slice(prefix.length), { holder: JSON.parse(kv.value.toString()).spec.holderIdentity, resourceVersion: String(kv.mod_revision) }]));
  } finally {
    etcd.close();
  }
}

/** Which acknowledged writes the objects read do not hold: each must hold its last acknowledged write, or the unacknowledged one after it. */
function lostWrites(log: WriteLog, read: Map<string, Held | undefined>): string[] {
  const lost: string[] = [];
  for (const [name, { acknowledged, unknown }] of log.objects) {
    if (!acknowledged) continue;
    const got = read.get(name);
    const holdsAcknowledged = got?.holder === acknowledged.holder && got.resourceVersion === acknowledged.resourceVersion;
    if (!holdsAcknowledged && !(unknown && got?.holder === unknown)) {
      lost.push(`${name}: acknowledged ${acknowledged.holder} at ${acknowledged.resourceVersion}, read ${JSON.stringify(got)}`);
    }
  }
  return lost;
}

etcdTest('3-member etcd: the leader killed and restarted while clients write through the API loses no acknowledged write, the writes go on with 2 of 3, and the restarted member catches up', async (t) => {
  const cluster = await startEtcdCluster({ members: 3 });
  t.teardown(() => cluster.stop());
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cp = await startControlPlane({ stateDir: dir, store: `etcd://${cluster.endpoints.join(',')}`, host: '127.0.0.1', port: 0, log: () => {} });
  t.teardown(() => cp.close());
  const api = client(cp.url, cp.adminToken);

  const log = new WriteLog();
  let stopping = false;
  const writers = Array.from({ length: WRITERS }, (_, w) => writeUntilStopped(api, w, log, () => stopping));
  try {
    await eventually('writes acknowledged before the outage', () => log.acknowledged().length >= WRITES_PER_PHASE);

    const leader = await leaderOf(cluster);
    await leader.kill();
    const downFrom = Date.now();
    // The cluster goes on with 2 of 3: writes sent after the kill are acknowledged before the restart.
    const acknowledgedSinceKill = () => log.within(downFrom).filter((w) => w.resourceVersion);
    await eventually(() => `writes acknowledged while the leader is down (${acknowledgedSinceKill().length} so far; refused: ${refusalsIn(log.within(downFrom))})`,
      () => acknowledgedSinceKill().length >= WRITES_PER_PHASE, PHASE_TIMEOUT_MS);
    const downUntil = Date.now();
    const [a, b] = await Promise.all(cluster.members.filter((m) => m !== leader).map(statusOf));
    t.is(a!.leader, b!.leader, 'the two members left follow one leader');
    t.true([a!.header.member_id, b!.header.member_id].includes(a!.leader), 'one of them');

    await leader.restart();
    const upFrom = Date.now();
    // Acknowledged writes are what each phase waits for: for up to the etcd3
    // client's circuit-breaker pause (5 s) after the leader's loss, calls can
    // be refused 503 while two members are healthy, once the proposals the
    // dead leader dropped have timed out on the others and opened their
    // breakers too.
    const acknowledgedAfterRestart = () => log.within(upFrom).filter((w) => w.resourceVersion);
    await eventually(() => `writes acknowledged after the restart (${acknowledgedAfterRestart().length} so far; refused: ${refusalsIn(log.within(upFrom))})`,
      () => acknowledgedAfterRestart().length >= WRITES_PER_PHASE, PHASE_TIMEOUT_MS);

    const duringOutage = log.within(downFrom, downUntil);
    t.log(`during the outage (${downUntil - downFrom} ms): ${duringOutage.filter((w) => w.resourceVersion).length} of ${duringOutage.length} writes acknowledged, the slowest in ${Math.max(...duringOutage.map((w) => w.answeredAt - w.sentAt))} ms`);
  } finally {
    stopping = true;
    await Promise.all(writers);
  }

  const acknowledged = log.acknowledged();
  const refusals = log.answered.filter((w) => !w.resourceVersion);
  t.log(`${acknowledged.length} writes acknowledged, ${refusals.length} not${refusals.length ? `: ${refusalsIn(refusals)}` : ''}`);
  // A write is unacknowledged only because the store did not answer (503)
  // or because the client retried a commit that had been applied (409).
  t.deepEqual([...new Set(refusals.map((w) => w.status))].filter((s) => s !== 503 && s !== 409), [], 'no write refused for another reason, none unanswered by the API');

  // Through the API: each object read back from the store.
  const viaApi = new Map<string, Held | undefined>();
  for (const [name, { acknowledged }] of log.objects) {
    if (!acknowledged) continue;
    const res = await api.get(`${LEASES}/${name}`);
    viaApi.set(name, res.status === 200 ? heldBy(res.body) : undefined);
  }
  t.deepEqual(lostWrites(log, viaApi), [], 'every acknowledged write is read back through the API');
  // And listed, from the API's object cache, which reloads if its etcd watch was on the killed member.
  const listed = await api.get(LEASES);
  t.is(listed.status, 200, listed.text);
  const viaList = new Map((listed.body.items as LeaseJson[]).map((l) => [l.metadata.name, heldBy(l)]));
  t.deepEqual(lostWrites(log, viaList), [], 'every acknowledged write is listed through the API');

  // Each member's own copy, once the restarted one has every revision the others have.
  const latest = Math.max(...acknowledged.map((w) => Number(w.resourceVersion)));
  const revisions = await eventually('the restarted member to catch up', async () => {
    const revs = (await Promise.all(cluster.members.map(statusOf))).map((s) => Number(s.header.revision));
    return revs.every((r) => r === revs[0] && r >= latest) && revs;
  });
  t.log(`members at revision ${revisions[0]}`);
  for (const member of cluster.members) {
    t.deepEqual(lostWrites(log, await leasesHeldBy(member)), [], `every acknowledged write is in ${member.name}'s own copy`);
  }

  const health = await api.get('/healthz');
  t.is(health.status, 200, 'the API server is still up');
});
