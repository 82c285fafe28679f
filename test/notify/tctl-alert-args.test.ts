import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAlertCreateArgv } from '../../src/adapters/notify/tctl-alert-args.js';

describe('checkAlertCreateArgv: forms tctl alerts create accepts (tool/tctl/common/alert_command.go, api/types/cluster_alert.go)', () => {
  const accepted: string[][] = [
    ['tctl', 'alerts', 'create', 'Restart at 14:00', '--severity', 'high', '--ttl', '48h0m0s', '--labels', 'teleport.internal/alert-on-login=yes,teleport.internal/alert-permit-all=yes'],
    ['tctl', 'alert', 'create', 'msg', '--severity=low', '--ttl=1.5h', '--labels=meridian.dev/notice=default/demo/1740000000000/notice/eu-central/1740003600000/1h'],
    ['/opt/teleport/bin/tctl', '--config', '/etc/teleport.yaml', 'alerts', 'create', 'msg', '--ttl', '90m'],
    ['tctl', 'alerts', 'create', '--severity', 'medium', 'the message comes after a flag'],
    ['tctl', 'alerts', 'create', 'msg', '--labels', 'a=b_c:d|e.f-g/h'],
    // Not tctl alerts create: the operator's own script is not second-guessed.
    ['notify-users', 'anything\ngoes', '--severity', 'urgent'],
    ['tctl', 'alerts', 'ls', '--labels', 'Bad=Value'],
  ];
  for (const argv of accepted) it(`accepts ${JSON.stringify(argv)}`, () => assert.deepEqual(checkAlertCreateArgv(argv), { ok: true, value: undefined }));

  const refused: [string[], RegExp][] = [
    [['tctl', 'alerts', 'create', 'msg', '--severity', 'critical'], /--severity: "critical" is not one of low, medium, high/],
    [['tctl', 'alerts', 'create', 'msg', '--ttl', '2d'], /--ttl: "2d" is not a Go duration/],
    [['tctl', 'alerts', 'create', 'msg', '--ttl'], /--ttl has no value/],
    [['tctl', 'alerts', 'create', 'msg', '--labels', 'meridian.dev/notice=Demo'], /value "Demo" of meridian\.dev\/notice is not allowed/],
    [['tctl', 'alerts', 'create', 'msg', '--labels', 'team_name=ops'], /key "team_name" is not allowed/],
    [['tctl', 'alerts', 'create', 'msg', '--labels', 'novalue'], /"novalue" is not key=value/],
    [['tctl', 'alerts', 'create', 'msg', '--labels', 'a='], /value "" of a is not allowed/],
    [['tctl', 'alerts', 'create', 'tab\there'], /control character/],
    [['tctl', 'alerts', 'create', ''], /message is empty/],
    [['ssh', 'auth-host', 'tctl', '--config', '/etc/teleport.yaml', 'alerts', 'create', 'msg', '--severity', 'urgent'], /--severity: "urgent"/],
  ];
  for (const [argv, why] of refused) {
    it(`refuses ${JSON.stringify(argv)}`, () => {
      const r = checkAlertCreateArgv(argv);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, why);
    });
  }
});
