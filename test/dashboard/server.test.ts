// The dashboard's listener over real sockets: `kcs up` serving TLS, the
// dashboard serving plain HTTP on loopback and forwarding to it.
import { request } from 'node:http';
import test from 'ava';
import { startServer, type KcsServer } from '../cli/helpers.ts';

let server: KcsServer;
let dashboard: string;
test.before(async () => {
  server = await startServer();
  dashboard = /dashboard: +(http:\/\/127\.0\.0\.1:\d+\/)#token=/.exec(server.process.stdout)![1]!;
});
test.after.always(async () => { await server?.stop(); });

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, dashboard), { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

test('kcs up prints the dashboard with the admin token in the fragment, and the kubeconfig records its address', async (t) => {
  t.true(server.url.startsWith('https://'));
  t.regex(server.process.stdout, new RegExp(`dashboard: +${dashboard.replace(/[.]/g, '\\.')}#token=${encodeURIComponent(server.token)}`));
  const printed = await server.kcs(['dashboard']);
  t.is(printed.code, 0, printed.stderr);
  t.is(printed.stdout.trim(), `dashboard: ${dashboard}#token=${encodeURIComponent(server.token)}`);
});

test('the static files are public, with a policy that lets the page load only its own files', async (t) => {
  const page = await get('/');
  t.is(page.status, 200);
  t.regex(page.body, /<script type="module" src="app.js">/);
  t.regex(String(page.headers['content-security-policy']), /default-src 'self'/);
  t.is(page.headers['x-frame-options'], 'DENY');
  const script = await get('/app.js');
  t.is(script.status, 200);
  t.regex(String(script.headers['content-type']), /javascript/);
  t.is((await get('/../kcs.db')).status, 404);
  t.is((await get('/nothing-here.js')).status, 404);
});

test('API calls are forwarded over TLS with the page\'s own token, and refused without one: the dashboard adds no credentials', async (t) => {
  const without = await get('/api/v1/nodes');
  t.is(without.status, 401);
  t.is(JSON.parse(without.body).kind, 'Status');
  const wrong = await get('/api/v1/nodes', { authorization: 'Bearer not-the-token' });
  t.is(wrong.status, 401);
  const right = await get('/api/v1/nodes', { authorization: `Bearer ${server.token}` });
  t.is(right.status, 200);
  t.is(JSON.parse(right.body).kind, 'NodeList');
  t.is((await get('/version')).status, 200);
});

test('a request naming another host (DNS rebinding) gets nothing', async (t) => {
  const rebound = await get('/api/v1/nodes', { host: 'evil.example:80', authorization: `Bearer ${server.token}` });
  t.is(rebound.status, 421);
  t.is((await get('/', { host: 'evil.example' })).status, 421);
});

test('a watch streams through the dashboard as it happens', async (t) => {
  const seen = await new Promise<string>((resolve, reject) => {
    const req = request(new URL('/api/v1/namespaces/default/pods?watch=1', dashboard), { headers: { authorization: `Bearer ${server.token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
        if (body.includes('"streamed"')) { resolve(body); req.destroy(); }
      });
    });
    req.on('error', reject).end();
    setTimeout(() => void server.api('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'streamed' }, spec: { containers: [{ name: 'c' }] } }), 300);
  });
  t.regex(seen, /"type":"ADDED"/);
});

test('kcs fail node asks for the failure through the API and says so', async (t) => {
  await server.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'victim' }, spec: { capacity: { cpu: '1' } } });
  const r = await server.kcs(['fail', 'node', 'victim', '--wait=false']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'node/victim failure requested');
  const node = await server.api('GET', '/api/v1/nodes/victim');
  t.truthy(node.body.metadata.annotations['kcs.io/fail-requested']);
  const missing = await server.kcs(['fail', 'node', 'nobody', '--wait=false']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nodes "nobody" not found/);
});
