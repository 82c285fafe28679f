/** Runs the `meridian` command with this process's arguments: what bin/meridian.js and `npm start` load. */
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2));
