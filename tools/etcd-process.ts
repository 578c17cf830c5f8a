// Private etcds on free loopback ports with temp data dirs, for the tests
// and benches that need a real one (Debian's etcd-server): one member, or a
// cluster of several; over TLS with client certificates if asked. Stopped by
// their PIDs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createCa, issueClientCert, issueServingCert } from '../src/pki/certificates.ts';
import { ETCD_LIMIT_FLAGS } from '../src/store/etcd.ts';
import type { EtcdTlsFiles as StoreTlsFiles } from '../src/store/open.ts';

/** The etcd binary: KCS_ETCD, else the first etcd on PATH; undefined if there is none. */
export const ETCD = (process.env.KCS_ETCD ? [process.env.KCS_ETCD] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'etcd'))).find((p) => existsSync(p));

/** One member of a running etcd cluster. */
export interface EtcdMember {
  /** Its name in the cluster. */
  readonly name: string;
  /** host:port of its client URL. */
  readonly endpoint: string;
  /** The PID of the running member (a new one after restart). */
  readonly pid: number;
  /** Kills the member at once (an outage), keeping its data dir. */
  kill(): Promise<void>;
  /** Starts the killed member again on the same data dir and ports; answers once it is healthy. */
  restart(): Promise<void>;
}

/** A one-member etcd. */
export interface EtcdProcess extends EtcdMember {
  /** Ends it for good and removes its data dir. */
  stop(): Promise<void>;
  /** Started with tls: what a client needs to reach it. */
  tls?: EtcdTlsFiles;
}

export interface EtcdCluster {
  /** host:port of each member's client URL, in the order of members. */
  readonly endpoints: string[];
  readonly members: EtcdMember[];
  /** Ends every member for good and removes their data dirs. */
  stop(): Promise<void>;
  /** Started with tls: what a client needs to reach it. */
  tls?: EtcdTlsFiles;
}

export interface EtcdStartOptions {
  /** How long each member may take to say it is healthy (default 20 s). */
  timeoutMs?: number;
  /** etcd's own request limits instead of the ones kcs's batched writes need. */
  defaultLimits?: boolean;
  /**
   * Serve clients over TLS only, and only those showing a client
   * certificate from the CA made for it (--client-cert-auth).
   */
  tls?: boolean;
}

/** The PEM files of a TLS etcd: the CA, and a client certificate it accepts (what `kcs up --etcd-*file` takes). */
export type EtcdTlsFiles = Required<StoreTlsFiles>;

/** Free loopback ports, all distinct: each is held until every one is found. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = createServer();
      servers.push(srv);
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    }
    return servers.map((srv) => (srv.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
}

interface Process {
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
}

function spawnProcess(etcd: string, args: string[]): Process {
  const child: ChildProcess = spawn(etcd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, exited, output: () => output };
}

async function killed(proc: Process): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await proc.exited;
}

/**
 * Resolves once the member's /health says true (in a cluster: it has a
 * leader and can serve); throws if it exits or timeoutMs passes first.
 */
async function healthy(proc: Process, client: string, timeoutMs: number, tls?: EtcdTlsFiles): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const credentials = tls && { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`etcd exited with ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
    const health = await getJson(`${client}/health`, credentials).catch(() => undefined) as { health?: string } | undefined;
    if (health?.health === 'true') return;
    if (Date.now() > deadline) throw new Error(`etcd did not answer on ${client} (it printed: ${proc.output().slice(-2000)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A GET's JSON answer (undefined unless 200); over TLS with the CA and client certificate given. */
function getJson(url: string, credentials: { ca: Buffer; cert: Buffer; key: Buffer } | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(url, credentials ?? {}, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => { body += s; }).on('end', () => {
        try {
          resolve(res.statusCode === 200 ? JSON.parse(body) : undefined);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
  });
}

/** A member's process, spawned again on restart; healthy() waits for the current one. */
interface RunningMember extends EtcdMember {
  healthy(): Promise<void>;
  /** SIGKILL, synchronously: for this process's exit. */
  killNow(): void;
}

function runMember(etcd: string, name: string, clientPort: number, args: string[], timeoutMs: number, tls?: EtcdTlsFiles): RunningMember {
  const client = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  let proc = spawnProcess(etcd, args);
  const member: RunningMember = {
    name,
    endpoint: `127.0.0.1:${clientPort}`,
    get pid() { return proc.child.pid!; },
    healthy: () => healthy(proc, client, timeoutMs, tls),
    killNow: () => { proc.child.kill('SIGKILL'); },
    kill: () => killed(proc),
    restart: async () => {
      await killed(proc);
      proc = spawnProcess(etcd, args);
      await member.healthy();
    },
  };
  return member;
}

/**
 * Starts count members forming one new cluster, each with its client and
 * peer ports and its data dir under one temp dir; answers once every one is
 * healthy (a member of a cluster is once a quorum has elected a leader).
 */
async function startMembers(count: number, opts: EtcdStartOptions): Promise<{ members: RunningMember[]; stop: () => Promise<void>; tls?: EtcdTlsFiles }> {
  const etcd = ETCD;
  if (!etcd) throw new Error('no etcd binary (install Debian\'s etcd-server, or set KCS_ETCD)');
  const dir = mkdtempSync(join(tmpdir(), 'kcs-etcd-'));
  const ports = await freePorts(2 * count);
  const specs = Array.from({ length: count }, (_, i) => ({
    name: count === 1 ? 'kcs' : `kcs-${i}`,
    clientPort: ports[2 * i]!,
    peer: `http://127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  // A token of its own, so members of another cluster on reused ports never take it for theirs.
  const token = `kcs-${randomUUID()}`;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const tls = opts.tls ? await writeTlsFiles(dir) : undefined;
  const tlsFlags = tls ? ['--cert-file', join(dir, 'server.crt'), '--key-file', join(dir, 'server.key'), '--trusted-ca-file', tls.caFile, '--client-cert-auth'] : [];
  const members = specs.map((s) => {
    const client = `${tls ? 'https' : 'http'}://127.0.0.1:${s.clientPort}`;
    return runMember(etcd, s.name, s.clientPort, [
      '--name', s.name, '--data-dir', join(dir, s.name),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', s.peer, '--initial-advertise-peer-urls', s.peer,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      '--logger', 'zap', '--log-level', 'error',
      // The limits kcs's batched writes need, unless a test wants etcd's defaults.
      ...(opts.defaultLimits ? [] : ETCD_LIMIT_FLAGS),
      ...tlsFlags,
    ], timeoutMs, tls);
  });
  // Should this process end without stopping them, the members go with it.
  const killOnExit = () => { for (const m of members) m.killNow(); };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    // Killed, not asked to stop: their data goes too, and a member stopping
    // gracefully waits to hand its leadership to members that are stopping.
    await Promise.all(members.map((m) => m.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(members.map((m) => m.healthy()));
  } catch (err) {
    await stop();
    throw err;
  }
  return { members, stop, tls };
}

/**
 * A CA, a serving certificate for loopback signed by it, and a client
 * certificate (CN root, etcd's user when it takes names from
 * certificates), written into dir.
 */
async function writeTlsFiles(dir: string): Promise<EtcdTlsFiles> {
  const ca = await createCa('kcs-etcd-ca');
  const server = await issueServingCert(ca, 'etcd', ['127.0.0.1', 'localhost']);
  const client = await issueClientCert(ca, 'root');
  const files: Record<string, string> = { 'ca.crt': ca.certPem, 'server.crt': server.certPem, 'server.key': server.keyPem, 'client.crt': client.certPem, 'client.key': client.keyPem };
  for (const [name, pem] of Object.entries(files)) writeFileSync(join(dir, name), pem, { mode: 0o600 });
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') };
}

/** Starts one, and answers once its /health says true (within timeoutMs). */
export async function startEtcd(opts: EtcdStartOptions = {}): Promise<EtcdProcess> {
  const { members: [member], stop, tls } = await startMembers(1, opts);
  return {
    tls,
    name: member!.name,
    endpoint: member!.endpoint,
    get pid() { return member!.pid; },
    stop,
    kill: member!.kill,
    restart: member!.restart,
  };
}

/** Starts a cluster of several members (3 by default), and answers once each says it is healthy. */
export async function startEtcdCluster(opts: EtcdStartOptions & { members?: number } = {}): Promise<EtcdCluster> {
  const { members, stop, tls } = await startMembers(opts.members ?? 3, opts);
  return { endpoints: members.map((m) => m.endpoint), members, stop, tls };
}
