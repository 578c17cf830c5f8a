// The kcs CLI entry point (bin/kcs runs the compiled copy in dist/).
import { execute } from '@oclif/core/execute';
import { settings } from '@oclif/core/settings';

// kcs ships compiled JavaScript; never let oclif look for a TypeScript
// loader, even when NODE_ENV says development or test.
settings.enableAutoTranspile = false;

// `kcs get pods | head`: when the reader goes away, stop quietly as kubectl
// does, instead of dying on the write error mid-command.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

await execute({ dir: import.meta.url });
