// Pods the preview tests serve pages from: a busybox httpd whose page tries to reach the course from inside the
// preview, a CGI that echoes the request's cookie and authorization headers, one that never answers, and a 3 MiB file.
import { readFileSync } from 'node:fs';

/** The hostile page: it tries the course's cookies, its API and its framing page, and writes what it got. */
export const HOSTILE_PAGE = readFileSync(new URL('./preview-hostile.html', import.meta.url), 'utf8');

const CGI_ECHO = [
  '#!/bin/sh',
  'echo "Content-Type: text/plain"',
  'echo "Set-Cookie: planted=by-the-pod; Path=/"',
  'echo',
  'echo "cookie=[$HTTP_COOKIE] authorization=[$HTTP_AUTHORIZATION]"',
].join('\n');
const CGI_SLOW = ['#!/bin/sh', 'sleep 60', 'echo "Content-Type: text/plain"', 'echo', 'echo late'].join('\n');

/** A busybox Pod serving all of the above on port 8080. */
export function hostilePod(name = 'hostile'): string {
  const script = [
    'mkdir -p /www/cgi-bin',
    `printf '%s\\n' "$PAGE" > /www/index.html`,
    `printf '%s\\n' "$ECHO" > /www/cgi-bin/echo`,
    `printf '%s\\n' "$SLOW" > /www/cgi-bin/slow`,
    'chmod +x /www/cgi-bin/*',
    'dd if=/dev/zero of=/www/big bs=1048576 count=3 2>/dev/null',
    'exec httpd -f -p 8080 -h /www',
  ].join(' && ');
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'busybox',
          command: ['sh', '-c', script],
          env: [
            { name: 'PAGE', value: HOSTILE_PAGE },
            { name: 'ECHO', value: CGI_ECHO },
            { name: 'SLOW', value: CGI_SLOW },
          ],
          ports: [{ containerPort: 8080 }],
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  });
}
