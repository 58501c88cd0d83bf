// container launcher – what it accepts of a job and of the configuration, without podman.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkImage, launcherAttrs, launcherNames } from '../../../daemons/startd/container-launcher.js';

describe('container launcher', () => {
  test('container launcher – image names: registry references pass; options, odd characters and local transports do not', () => {
    for (const ok of [
      'busybox',
      'docker://alpine:3.19',
      'localhost/dsched-test',
      'reg.example:5000/a/b@sha256:0f',
      'busybox:1.36',
    ])
      assert.equal(checkImage(ok), undefined, ok);
    for (const bad of [
      '/srv/img',
      'dir:/root',
      'oci-archive:/root/x.tar',
      'docker-archive:x.tar',
      '--privileged',
      '-v/:/host',
      'a b',
      'img\n--rm',
      'x;y',
      '',
      undefined,
      `a${'b'.repeat(1100)}`,
    ])
      assert.ok(checkImage(bad), String(bad));
  });

  test('container launcher – STARTD_LAUNCHERS: process always, container once, unknown names refused', () => {
    assert.deepEqual(launcherNames('process, container'), ['process', 'container']);
    assert.deepEqual(launcherNames('container container'), ['process', 'container']);
    assert.deepEqual(launcherNames('process'), ['process']);
    assert.deepEqual(launcherNames(''), ['process']);
    assert.match(String(launcherNames('process, docker')), /unknown launchers: docker/);
  });

  test('container launcher – slot ad attributes in HTCondor’s names', () => {
    assert.deepEqual(launcherAttrs(['process']), { StartdLaunchers: '"process"', HasContainer: 'false' });
    const setup = { version: 'podman version 4.3.1', pull: 'never' } as Parameters<typeof launcherAttrs>[1];
    assert.deepEqual(launcherAttrs(['process', 'container'], setup), {
      StartdLaunchers: '"process container"',
      HasContainer: 'true',
      HasDocker: 'true',
      DockerVersion: '"podman version 4.3.1"',
      HasDockerURL: 'false',
    });
  });
});
