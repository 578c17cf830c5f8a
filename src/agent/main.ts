// The agent process in a node container: configuration from the
// environment the node controller sets, then run until SIGTERM.
import { Client } from '../client/http.ts';
import { leaseTimeoutMs, NodeAgent } from './agent.ts';
import { DEFAULT_RESTART_BACKOFF } from './pod-status.ts';
import { RealLoad } from './real-load.ts';

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`kcs agent: ${name} is not set\n`);
    process.exit(2);
  }
  return v;
}

const nodeName = required('KCS_NODE_NAME');
const heartbeatMs = Number(process.env.KCS_HEARTBEAT_MS ?? 1000);
// The cluster CA (base64 PEM, as a kubeconfig carries it): the agent trusts the API's certificate only through it.
const ca = process.env.KCS_CA_DATA ? Buffer.from(process.env.KCS_CA_DATA, 'base64').toString('utf8') : undefined;
const connection = { server: required('KCS_SERVER'), token: required('KCS_TOKEN'), ca };
const client = new Client(connection);
const leaseClient = new Client({ ...connection, timeoutMs: leaseTimeoutMs(heartbeatMs) });
// Optional: how long a container that failed its health check waits (default 1 s doubling to 30 s).
const backoffMs = Number(process.env.KCS_RESTART_BACKOFF_MS);
const backoffMaxMs = Number(process.env.KCS_RESTART_BACKOFF_MAX_MS);
const restartBackoff = backoffMs > 0 ? { baseMs: backoffMs, maxMs: backoffMaxMs > 0 ? backoffMaxMs : Math.max(backoffMs, DEFAULT_RESTART_BACKOFF.maxMs) } : undefined;
const log = (m: string) => process.stderr.write(`kcs agent ${nodeName}: ${m}\n`);
let agent: NodeAgent | undefined;
// The agent's timers do not hold a process open (they are unref'd for
// embedding); this process is the agent, so it lives until it is told to stop,
// also while the API is away.
const keepAlive = setInterval(() => {}, 1 << 30);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    clearInterval(keepAlive);
    agent?.stop();
    client.close();
    leaseClient.close();
    process.exit(0);
  });
}

// Until the API answers (it may be starting too), keep trying, each time
// with a fresh agent: a half-started one is stopped, never reused.
for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
  // --real-load: this container burns the CPU its pods use (real-load.ts).
  const usageSink = process.env.KCS_REAL_LOAD === '1' ? new RealLoad() : undefined;
  agent = new NodeAgent({ client, leaseClient, nodeName, heartbeatMs, restartBackoff, usageSink, log });
  try {
    await agent.start();
    log('registered');
    break;
  } catch (err) {
    agent.stop();
    const code = (err as { code?: unknown }).code;
    if (code === 401 || code === 403) {
      // A token the API refuses will not become valid by waiting.
      log(`the API refused this node's token (${code}): ${(err as Error).message}`);
      process.exit(1);
    }
    log(`cannot register yet (${(err as Error).message}); retrying in ${delay} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
