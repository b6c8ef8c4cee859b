#!/bin/sh
# KT1 Track: make the self-signed TLS certificate nginx serves (docs/operations.md).
#
#   deploy/make-cert.sh kt1.coquan.vn [10.1.2.3 ...]
#
# Makes, in $TLS_DIR (default /etc/kt1/tls):
#   ca.crt, ca.key   a small certificate authority of this server alone (10 years). Install
#                    ca.crt as trusted on the workstations and scanners, once; keep ca.key
#                    offline (a USB key in the safe) once the server certificate is made.
#   kt1.crt, kt1.key the server's certificate (825 days) for the names and addresses given,
#                    signed by that authority; kt1.crt holds the chain nginx sends.
# An existing ca.key is reused, so renewing the server certificate needs no new trust on
# the workstations. To use the agency's own certificate instead, put its chain and key at
# kt1.crt and kt1.key and do not run this script.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 HOSTNAME [IP-ADDRESS ...]" >&2
    exit 64
fi
dir=${TLS_DIR:-/etc/kt1/tls}
days=${TLS_DAYS:-825}
name=$1
shift
san="DNS:$name"
for ip in "$@"; do
    san="$san,IP:$ip"
done
umask 077
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$dir/ca.key" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key"
    openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
        -subj "/O=KT1 Track/CN=KT1 Track CA $name" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$dir/ca.crt"
fi

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/kt1.key"
openssl req -new -key "$tmp/kt1.key" -subj "/O=KT1 Track/CN=$name" -out "$tmp/kt1.csr"
cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl x509 -req -in "$tmp/kt1.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -CAserial "$tmp/ca.srl" -days "$days" -sha256 \
    -extfile "$tmp/ext.cnf" -out "$tmp/kt1.pem"
cat "$tmp/kt1.pem" "$dir/ca.crt" > "$tmp/kt1.crt"
mv "$tmp/kt1.key" "$dir/kt1.key"
mv "$tmp/kt1.crt" "$dir/kt1.crt"
chmod 644 "$dir/kt1.crt" "$dir/ca.crt"
chmod 600 "$dir/kt1.key" "$dir/ca.key"
echo "==> $dir/kt1.crt for $san (until $(openssl x509 -in "$dir/kt1.crt" -noout -enddate | cut -d= -f2))"
echo "==> install $dir/ca.crt as trusted on the workstations and scanners (docs/operations.md)"
