/**
 * The text-tools plugin as an exec (child process) plugin: requests arrive as JSON lines on
 * stdin, replies leave on stdout. Logs must go to stderr (the host logs them).
 */
import { serveStdio } from '../../src/sdk/index.js';
import { textTools } from './text-tools.js';

await serveStdio(textTools(`exec pid ${process.pid}`), {
  info: { name: 'text-tools', version: '1.0.0', description: 'text tools over stdio' },
});
console.error(`text-tools exec plugin started (pid ${process.pid})`);
