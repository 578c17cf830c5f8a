// The node image, built locally with no registry and no Dockerfile: a
// root filesystem holding the Node.js binary, the shared libraries it links
// (as ldd lists them), and the compiled agent, imported as an image whose
// tag is a hash of that content, so a changed agent gets a new image.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';

export const IMAGE_REPO = 'kcs-node';
/** Inside the image: the agent entry point and the node binary. */
export const AGENT_ENTRY = '/kcs/dist/agent/main.js';
export const NODE_BIN = '/usr/local/bin/node';

interface ImageFile { source?: string; content?: Buffer; target: string; mode: number }

/** The compiled tree the agent runs from: the dist/ this module was loaded from. */
function distDir(): string {
  const here = dirname(fileURLToPath(import.meta.url)); // dist/runtime or src/runtime
  const root = join(here, '..', '..');
  return join(root, 'dist');
}

function walk(dir: string, keep: (name: string) => boolean = (name) => name.endsWith('.js')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    return e.isDirectory() ? walk(full, keep) : keep(e.name) ? [full] : [];
  });
}

/**
 * The packages the agent's code imports at run time (the usage profiles
 * are YAML): copied into the image's node_modules as installed, their
 * JavaScript and package.json files only.
 */
const AGENT_PACKAGES = ['yaml'];

/** Where the package is installed, as Node resolves it from here. */
function packageDir(name: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}

/** The shared libraries a binary needs, from ldd. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]);
  }
  return [...libs];
}

export interface ImagePlan {
  tag: string;
  files: ImageFile[];
}

/** What goes into the image, and the tag naming exactly that content. */
export function planImage(nodeBinary = process.execPath): ImagePlan {
  const dist = distDir();
  const files: ImageFile[] = [];
  const hash = createHash('sha256');
  const binary = realpathSync(nodeBinary);
  const st = statSync(binary);
  // The binary is identified by its version and size: hashing 120 MB on every start costs too much.
  hash.update(`node ${process.version} ${st.size}\n`);
  files.push({ source: binary, target: NODE_BIN, mode: 0o755 });
  for (const lib of sharedLibraries(binary)) {
    const real = realpathSync(lib);
    hash.update(`lib ${lib} ${statSync(real).size}\n`);
    files.push({ source: real, target: lib, mode: 0o755 });
  }
  for (const file of walk(dist).sort()) {
    const content = readFileSync(file);
    const target = join('/kcs/dist', relative(dist, file));
    hash.update(`${target}\n`).update(content);
    files.push({ content, target, mode: 0o644 });
  }
  for (const name of AGENT_PACKAGES) {
    const dir = packageDir(name);
    for (const file of walk(dir, (f) => /\.(js|mjs|cjs|json)$/.test(f)).sort()) {
      const content = readFileSync(file);
      const target = join('/kcs/node_modules', name, relative(dir, file));
      hash.update(`${target}\n`).update(content);
      files.push({ content, target, mode: 0o644 });
    }
  }
  // Node reads the nearest package.json to know .js files are ES modules.
  files.push({ content: Buffer.from('{"type":"module"}\n'), target: '/kcs/package.json', mode: 0o644 });
  files.push({ content: Buffer.alloc(0), target: '/tmp/.keep', mode: 0o644 });
  return { tag: hash.digest('hex').slice(0, 16), files };
}

function tarball(files: ImageFile[]): ReturnType<typeof pack> {
  const tar = pack();
  (async () => {
    for (const f of files) {
      const name = f.target.replace(/^\//, '');
      if (f.content) {
        await new Promise<void>((res, rej) => tar.entry({ name, mode: f.mode }, f.content!, (err) => (err ? rej(err) : res())));
      } else {
        const size = statSync(f.source!).size;
        await new Promise<void>((res, rej) => {
          const entry = tar.entry({ name, mode: f.mode, size }, (err) => (err ? rej(err) : res()));
          createReadStream(f.source!).on('error', rej).pipe(entry);
        });
      }
    }
    tar.finalize();
  })().catch((err) => tar.destroy(err));
  return tar;
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Builds the node image unless this exact content is already there; returns its reference. */
export async function ensureImage(docker: Docker, log: (message: string) => void = () => {}): Promise<string> {
  const plan = planImage();
  const ref = `${IMAGE_REPO}:${plan.tag}`;
  if (await imageExists(docker, ref)) return ref;
  const bytes = plan.files.reduce((n, f) => n + (f.content ? f.content.length : statSync(f.source!).size), 0);
  log(`building node image ${ref} (${plan.files.length} files, ${(bytes / 1048576).toFixed(0)} MiB)...`);
  const started = Date.now();
  const stream = await docker.importImage(tarball(plan.files) as never, { repo: IMAGE_REPO, tag: plan.tag });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream as NodeJS.ReadableStream, (err: Error | null) => (err ? reject(err) : resolve()));
  });
  if (!(await imageExists(docker, ref))) throw new Error(`the node image ${ref} was not created`);
  log(`built node image ${ref} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await pruneOldImages(docker, ref);
  return ref;
}

/** Earlier node images nothing runs any more are removed; ones in use stay until their containers go. */
async function pruneOldImages(docker: Docker, keep: string): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [`${IMAGE_REPO}:*`] } });
  for (const image of images) {
    if (image.RepoTags?.includes(keep)) continue;
    try {
      await docker.getImage(image.Id).remove();
    } catch { /* in use by a container, or removed meanwhile */ }
  }
}
