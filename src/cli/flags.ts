// Flags shared by several commands, declared once so --help agrees everywhere.
import * as Flags from '@oclif/core/flags';
import { OUTPUT_FORMATS, TEMPLATE_FORMATS } from './printers/output.ts';

export const namespaceFlag = Flags.string({ char: 'n', summary: 'Namespace of namespaced objects (default "default").' });
export const outputFlag = Flags.string({ char: 'o', summary: `Output format: ${OUTPUT_FORMATS.join('|')}, or ${TEMPLATE_FORMATS.map((f) => `${f}=...`).join('|')} as in kubectl.` });
export const selectorFlag = Flags.string({ char: 'l', summary: "Label selector, e.g. 'app=web,tier!=db'." });
export const filenameFlag = Flags.string({ char: 'f', summary: 'A file, a directory, or - for standard input.', multiple: true });
export const recursiveFlag = Flags.boolean({ char: 'R', summary: 'Process the directories given with -f recursively.' });
