// /proc/net/tcp parsing: which addresses listen on which ports, and which sockets a container's processes hold.
import { describe, expect, it } from 'vitest';
import { isLoopback, parseListeners, parseSocketInodes } from './sockets.ts';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 198032 1 0 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 198040 1 0 100 0 0 10 0
   2: 2300F40A:0050 0100F40A:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 198050 1 0 100 0 0 10 0
   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 198060 1 0 100 0 0 10 0`;

describe('parseListeners', () => {
  it('reads listening IPv4 and IPv6 sockets, skipping established connections', () => {
    expect(parseListeners(TCP)).toEqual([
      { address: '0.0.0.0', port: 80, inode: '198032' },
      { address: '127.0.0.1', port: 8080, inode: '198040' },
      { address: '::1', port: 80, inode: '198050' },
      { address: '::', port: 8080, inode: '198060' },
    ]);
  });

  it('tells loopback addresses apart', () => {
    expect(['127.0.0.1', '::1', '0.0.0.0', '::', '10.244.0.35'].map(isLoopback)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

describe('parseSocketInodes', () => {
  it('collects socket inodes from ls -l /proc/*/fd', () => {
    const ls = `/proc/1/fd:
lrwx------ 1 root root 64 Nov 25 14:28 5 -> socket:[198032]
l-wx------ 1 root root 64 Nov 25 14:28 1 -> pipe:[198048]
lrwx------ 1 root root 64 Nov 25 14:28 6 -> socket:[199194]`;
    expect([...parseSocketInodes(ls)]).toEqual(['198032', '199194']);
  });
});
