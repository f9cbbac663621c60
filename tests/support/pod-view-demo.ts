// The Pod the workspace tests draw: an init container, a native sidecar and an app container, two shared volumes and
// a port. The sidecar exits (code 3) once /tmp/die exists in it, so a test can make it restart on purpose.
export const POD_VIEW_DEMO = 'pod-view-demo';

export const podViewDemoYaml = `apiVersion: v1
kind: Pod
metadata:
  name: ${POD_VIEW_DEMO}
spec:
  initContainers:
    - name: prepare
      image: busybox
      command: ['sh', '-c', 'echo hello > /work/index.html']
      volumeMounts:
        - { name: site, mountPath: /work }
    - name: log-shipper
      image: busybox
      restartPolicy: Always
      command: ['sh', '-c', 'while [ ! -f /tmp/die ]; do sleep 1; done; exit 3']
      volumeMounts:
        - { name: logs, mountPath: /logs, readOnly: true }
  containers:
    - name: web
      image: nginx:1.26
      ports:
        - { containerPort: 80, name: http }
      volumeMounts:
        - { name: logs, mountPath: /var/log/nginx }
        - { name: site, mountPath: /usr/share/nginx/html }
  volumes:
    - { name: logs, emptyDir: {} }
    - { name: site, emptyDir: {} }
`;
