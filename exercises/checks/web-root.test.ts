// Finding a web server's folder from /proc and nginx configuration text.
import { describe, expect, it } from 'vitest';
import { parseProcesses, webRootCandidates } from './web-root.ts';

const LISTING = `pid 1 /
arg sh
arg -c
arg mkdir -p /www && exec httpd -f -p 8080 -h /www
pid 7 /srv/site
arg httpd
arg -f
arg -p
arg 8080
pid 9 /data/site
arg busybox
arg httpd
arg -fp8080
arg -h/data/site/
pid 12 /home/app/public
arg httpd
arg -f
arg -h
arg public
pid 30 /
`;

describe('parseProcesses', () => {
  it('reads each process with its working folder and arguments', () => {
    const processes = parseProcesses(LISTING);
    expect(processes.map((p) => p.pid)).toEqual(['1', '7', '9', '12', '30']);
    expect(processes[1]).toEqual({ pid: '7', cwd: '/srv/site', argv: ['httpd', '-f', '-p', '8080'] });
    expect(processes[4]).toEqual({ pid: '30', cwd: '/', argv: [] });
  });
});

describe('webRootCandidates', () => {
  it("puts httpd's folders first: its working folder (httpd changes into its home), and an absolute -h", () => {
    const roots = webRootCandidates(parseProcesses(LISTING), '');
    expect(roots.slice(0, 3)).toEqual(['/srv/site', '/data/site', '/home/app/public']);
    expect(roots).not.toContain('public');
    expect(roots).toContain('/www');
  });

  it('reads nginx root directives, quoted or not, and skips relative ones and comments', () => {
    const conf = `server {\n  listen 8080;\n  root "/opt/html";\n  # root /commented;\n}\nserver { listen 81;\n root   relative/html ;\n}`;
    const roots = webRootCandidates([], conf);
    expect(roots[0]).toBe('/opt/html');
    expect(roots).not.toContain('relative/html');
    expect(roots).not.toContain('/commented');
    expect(roots).toContain('/usr/share/nginx/html');
  });

  it('lists each folder once', () => {
    const roots = webRootCandidates(parseProcesses('pid 1 /\narg httpd\narg -h\narg /www\n'), 'root /www;');
    expect(roots.filter((r) => r === '/www')).toHaveLength(1);
  });
});
