// A Registry over a fresh SQLite file, and in-process clients acting as the
// admin and as the controllers: for tests of a controller's logic against
// the real write path, without an HTTP server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ADMIN_USER } from '../../src/api/auth.ts';
import { CONTROLLERS_USER } from '../../src/api/controller-auth.ts';
import { Registry } from '../../src/api/registry.ts';
import { LocalClient } from '../../src/client/local.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

export async function registryClients(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-registry-'));
  const store = new SqliteStore(join(dir, 'kcs.db'));
  const registry = new Registry(store);
  t.teardown(async () => {
    registry.cache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await registry.ready();
  return { registry, admin: new LocalClient(registry, { user: ADMIN_USER }), controllers: new LocalClient(registry, { user: CONTROLLERS_USER }) };
}
