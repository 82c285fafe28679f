import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { FIXTURES, fixture, tempDir } from './helpers.js';

const GENERATOR = fixture('generate.pl');

test('generate.pl reproduces the committed .mmdb fixtures byte for byte', async (t) => {
  const probe = spawnSync('perl', ['-MMaxMind::DB::Writer::Tree', '-e', '1'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    assert.fail(
      'perl with MaxMind::DB::Writer::Tree is needed to check the GeoIP fixtures: run .ci/install-deps.sh ' +
        `(apt-get install libmaxmind-db-writer-perl). perl said: ${probe.error?.message ?? probe.stderr.trim()}`,
    );
  }
  const out = await tempDir(t);
  const run = spawnSync('perl', [GENERATOR, out], { encoding: 'utf8' });
  assert.equal(run.status, 0, `generate.pl failed: ${run.stderr}`);

  const committed = (await readdir(FIXTURES)).filter((f) => f.endsWith('.mmdb')).sort();
  const generated = (await readdir(out)).sort();
  assert.deepEqual(generated, committed, 'the generator writes exactly the committed files');
  for (const name of committed) {
    const same = (await readFile(fixture(name))).equals(await readFile(`${out}/${name}`));
    assert.ok(same, `${name} differs from what generate.pl writes: regenerate with perl test/fixtures/geoip/generate.pl`);
  }
});
