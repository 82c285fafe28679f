import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/main.js';
import { capture } from '../helpers/capture-io.js';

test('start and demo take a flag for every setting, and a bad value names the flag or the variable it came from', async () => {
  for (const command of ['start', 'demo']) {
    const io = capture();
    const args = [command, '--manifests', 'examples/fleet', '--trusted-header', 'via', '--scrape-max-bytes', '12', '--login-url', 'ftp://x', '--canary-key-file', '/k', '--log-format', 'colour'];
    assert.equal(await runCli(args, io), 2, io.stderr);
    assert.match(io.stderr, new RegExp(`^meridian ${command}: invalid configuration:`));
    for (const flag of ['--trusted-header: "via"', '--scrape-max-bytes: "12"', '--login-url: "ftp://x"', '--log-format: "colour"']) assert.ok(io.stderr.includes(flag), `${flag} in ${io.stderr}`);
    assert.equal(io.stdout, '', 'nothing started');
  }
  const given = process.env['MERIDIAN_LOG_FORMAT'];
  process.env['MERIDIAN_LOG_FORMAT'] = 'colour';
  try {
    const io = capture();
    assert.equal(await runCli(['start', '--manifests', 'examples/fleet'], io), 2);
    assert.match(io.stderr, /MERIDIAN_LOG_FORMAT: "colour" must be one of auto, json, pretty/);
  } finally {
    if (given === undefined) delete process.env['MERIDIAN_LOG_FORMAT'];
    else process.env['MERIDIAN_LOG_FORMAT'] = given;
  }
});
