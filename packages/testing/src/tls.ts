import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  /** the CA's certificate (what `NATS_CA` points at) */
  ca: string;
  /** the server's certificate and key (for 127.0.0.1 and localhost) */
  serverCert: string;
  serverKey: string;
  /** a client certificate and key, signed by the CA */
  clientCert: string;
  clientKey: string;
}

/** Make a throw-away CA with a server and a client certificate in `dir`, with `openssl`. */
export function makeTestPki(dir: string): TestPki {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=errand-test-ca', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  const issue = (name: string, cn: string, ext: string) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-out', f(`${name}.pem`), '-extfile', ext);
  };
  const writeExt = (name: string, text: string) => {
    writeFileSync(f(name), `${text}\n`);
    return f(name);
  };
  issue('server', 'localhost', writeExt('server.ext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'));
  issue('client', 'errand-test-client', writeExt('client.ext', 'extendedKeyUsage=clientAuth'));
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
