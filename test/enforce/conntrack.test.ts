/** conntrack's save format read, and the delete lines made from it (no kernel needed). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deleteLine, parseSaveLine } from '../../src/enforce/conntrack.js';

test('save lines become flows told by their original direction; delete lines name exactly them', () => {
  const tcp = parseSaveLine(
    '-A -t 119 -u SEEN_REPLY,ASSURED -s 10.0.1.5 -d 10.0.1.6 -r 10.0.1.6 -q 10.0.1.5 -p tcp --sport 57844 --dport 22 --reply-port-src 22 --reply-port-dst 57844 --state TIME_WAIT',
  );
  assert.deepEqual(tcp, {
    proto: 'tcp',
    src: '10.0.1.5',
    dst: '10.0.1.6',
    state: 'TIME_WAIT',
    sport: 57844,
    dport: 22,
  });
  assert.equal(deleteLine(tcp!), '-D -s 10.0.1.5 -d 10.0.1.6 -p tcp --sport 57844 --dport 22');
  const icmp = parseSaveLine(
    '-A -t 29 -u SEEN_REPLY -s 10.0.1.7 -d 10.0.1.6 -r 10.0.1.6 -q 10.0.1.7 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 32029',
  );
  assert.deepEqual(icmp, {
    proto: 'icmp',
    src: '10.0.1.7',
    dst: '10.0.1.6',
    icmp: { type: 8, code: 0, id: 32029 },
  });
  assert.equal(
    deleteLine(icmp!),
    '-D -s 10.0.1.7 -d 10.0.1.6 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 32029',
  );
  const udp = parseSaveLine(
    '-A -t 30 -u UNREPLIED -s 10.0.1.1 -d 10.0.1.2 -r 10.0.1.2 -q 10.0.1.1 -p udp --sport 40000 --dport 53 --reply-port-src 53 --reply-port-dst 40000',
  );
  assert.deepEqual(udp, {
    proto: 'udp',
    src: '10.0.1.1',
    dst: '10.0.1.2',
    sport: 40000,
    dport: 53,
  });
  assert.equal(
    parseSaveLine('conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.'),
    null,
  );
  assert.equal(parseSaveLine(''), null);
});
