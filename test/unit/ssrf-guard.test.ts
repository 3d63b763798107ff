import { describe, expect, it } from 'vitest';
import { checkTarget, refusalOf } from '../../shared/webhooks/ssrf.ts';

describe('the SSRF guard', () => {
  it.each([
    '127.0.0.1', '127.5.5.5', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.10', '169.254.169.254', '169.254.0.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '64:ff9b::10.0.0.1', '0:0:0:0:0:0:0:1',
  ])('refuses %s', (address) => {
    expect(refusalOf(address)).toBeDefined();
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '172.32.0.1', '192.169.0.1'])('allows the public address %s', (address) => {
    expect(refusalOf(address)).toBeUndefined();
  });

  it('allows loopback, and loopback alone, where the local stack asks for it', () => {
    expect(refusalOf('127.0.0.1', { allowLoopback: true })).toBeUndefined();
    expect(refusalOf('::1', { allowLoopback: true })).toBeUndefined();
    expect(refusalOf('10.0.0.1', { allowLoopback: true })).toBeDefined();
    expect(refusalOf('169.254.169.254', { allowLoopback: true })).toBeDefined();
  });

  it('resolves DNS names and refuses those that resolve to private addresses; refuses other schemes and credentials', async () => {
    expect(await checkTarget('http://localhost:8080/hook')).toMatch(/localhost resolves to .*loopback/);
    expect(await checkTarget('http://localhost:8080/hook', { allowLoopback: true })).toBeUndefined();
    expect(await checkTarget('http://169.254.169.254/latest/meta-data/')).toMatch(/169\.254\.169\.254/);
    expect(await checkTarget('http://[::ffff:169.254.169.254]/')).toBeDefined();
    expect(await checkTarget('http://[fd00:ec2::254]/')).toBeDefined();
    expect(await checkTarget('http://0x7f000001/')).toBeDefined(); // WHATWG URL parsing makes it 127.0.0.1
    expect(await checkTarget('file:///etc/passwd')).toBe('must be an http or https URL');
    expect(await checkTarget('https://user:pw@example.com/')).toBe('must not carry credentials');
    expect(await checkTarget('https://name.invalid/')).toBe('name.invalid does not resolve');
  });
});
