/**
 * The credentials the API server needs to talk to the kubelet (`kubectl logs/exec`, port-forward):
 * a CA the kubelet trusts for client certificates (authentication.x509.clientCAFile) and a client
 * certificate it signs, O=system:masters, for --kubelet-client-certificate/--kubelet-client-key.
 * openssl writes them (Node's crypto cannot sign certificates); EC keys keep it fast.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Paths of the kubelet client CA and the API server's client certificate and key. */
export interface KubeletClientCerts {
  readonly caCert: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Writes a fresh CA and client certificate (valid two days) under `dir`. */
export function writeKubeletClientCerts(dir: string): KubeletClientCerts {
  mkdirSync(dir, { recursive: true });
  const p = (name: string): string => path.join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2",
    "-subj", "/CN=sws-node-kubelet-client-ca"]); // prettier-ignore
  openssl(["req", ...ec, "-keyout", p("client.key"), "-out", p("client.csr"),
    "-subj", "/O=system:masters/CN=kube-apiserver-kubelet-client"]); // prettier-ignore
  writeFileSync(p("client.ext"), "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
  openssl(["x509", "-req", "-in", p("client.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
    "-CAcreateserial", "-out", p("client.crt"), "-days", "2", "-extfile", p("client.ext")]); // prettier-ignore
  return { caCert: p("ca.crt"), clientCert: p("client.crt"), clientKey: p("client.key") };
}
