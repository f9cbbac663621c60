// A TCP front for several server replicas, as a Service in front of a Deployment's Pods: each new connection goes to
// the first replica that accepts it, so once one dies (its port refuses), browsers reconnect to the next.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface FailoverProxy {
  port: number;
  close(): Promise<void>;
}

/** `targetPorts` is read at every connection, so a caller may fill it in after the front listens. */
export async function failoverProxy(targetPorts: number[]): Promise<FailoverProxy> {
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy());
    const tryTarget = (index: number) => {
      const port = targetPorts[index];
      if (port === undefined || client.destroyed) return client.destroy();
      const upstream = connect(port, '127.0.0.1');
      const refused = () => {
        upstream.destroy();
        tryTarget(index + 1);
      };
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        track(upstream);
        upstream.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryTarget(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
