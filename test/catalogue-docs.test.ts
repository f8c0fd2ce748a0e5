import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as akin from 'akin';

const C = akin.catalogue;

test('catalogue: every registered class has metadata and every metadata entry a registered class', () => {
  assert.deepEqual(C.metadataProblems(), []);
  const names = C.registeredNames();
  for (const family of C.FAMILIES) assert.ok(names[family].length > 0, family);
  // the registries themselves, not a copy
  assert.deepEqual(names.losses, akin.losses.registry.names());
  assert.deepEqual(names.miners, [...akin.miners.registry.names(), 'MaximumLossMiner'].sort());
  assert.deepEqual(names.distances, [...akin.distances.registry.names(), 'BatchedDistance'].sort());
  assert.ok(names.losses.includes('CrossBatchMemory') && names.samplers.includes('MPerClassSampler'));
  assert.ok(!names.samplers.includes('tupleWeights'), 'functions are not sampler classes');
  for (const e of C.catalogue()) {
    assert.ok(!e.summary.includes('\n') && e.summary.endsWith('.'), `${e.className}: one sentence`);
    assert.ok(e.paper === null || /^[A-Z].* (19|20)\d\d, \*.+\*/.test(e.paper), `${e.className}: paper "${e.paper}"`);
  }
});

test('catalogue: out-of-step metadata is reported both ways and stops the page', () => {
  const names = C.registeredNames();
  const withExtra = { ...names, losses: [...names.losses, 'MadeUpLoss'] };
  assert.deepEqual(C.metadataProblems(withExtra), ['losses: MadeUpLoss is registered but has no metadata']);
  const metadata = { ...C.METADATA, miners: { ...C.METADATA.miners, GhostMiner: { summary: 'x.', paper: null } } };
  assert.deepEqual(C.metadataProblems(names, metadata), ['miners: metadata names GhostMiner, which is not registered']);
});

test('docs/components.md is what the generator writes (run `npm run docs` after adding a component)', () => {
  const committed = readFileSync(new URL('../../docs/components.md', import.meta.url), 'utf8');
  const generated = C.componentsMarkdown();
  assert.equal(committed, generated);
  for (const e of C.catalogue()) assert.ok(generated.includes(`| \`${e.className}\` |`), e.className);
});
