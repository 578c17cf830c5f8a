// The kcs CLI entry point (bin/kcs runs the compiled copy in dist/).
import { execute } from '@oclif/core/execute';
import { settings } from '@oclif/core/settings';

// kcs ships compiled JavaScript; never let oclif look for a TypeScript
// loader, even when NODE_ENV says development or test.
settings.enableAutoTranspile = false;

await execute({ dir: import.meta.url });
