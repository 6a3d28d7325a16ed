#!/bin/sh
# Makes the throw-away test PKI in folder $1 (TEST ONLY: never trust these anywhere else).
#   ca.pem                    the test CA the client is told to trust (--ca-file)
#   good.{pem,key}            localhost + 127.0.0.1 + ::1, signed by the test CA
#   wrong-host.{pem,key}      mail.other.test, signed by the test CA
#   expired.{pem,key}         localhost, signed by the test CA, expired in 2020
#   self-signed.{pem,key}     localhost, self-signed
#   unknown-ca.{pem,key}      localhost, signed by another CA (other-ca.pem), not trusted
#   ip-only.{pem,key}         IP address 127.0.0.1 only, signed by the test CA
# Keys are ECDSA P-256 so that this takes well under a second.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
[ -f ip-only.pem ] && exit 0

key () { certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$1" 2>/dev/null; }

ca () { # name cn
  key "$1.key"
  cat > "$1.tmpl" <<T
cn = "$2"
ca
cert_signing_key
expiration_days = 3650
T
  certtool --generate-self-signed --load-privkey "$1.key" --template "$1.tmpl" --outfile "$1.pem" 2>/dev/null
}

leaf () { # name ca extra-template-lines
  name=$1; signer=$2; shift 2
  key "$name.key"
  { echo 'organization = "Postage test suite (test only)"'
    echo 'tls_www_server'
    echo 'signing_key'
    echo 'encryption_key'
    for l in "$@"; do echo "$l"; done; } > "$name.tmpl"
  if [ "$signer" = self ]; then
    certtool --generate-self-signed --load-privkey "$name.key" --template "$name.tmpl" \
      --outfile "$name.pem" 2>/dev/null
  else
    certtool --generate-certificate --load-privkey "$name.key" --load-ca-certificate "$signer.pem" \
      --load-ca-privkey "$signer.key" --template "$name.tmpl" --outfile "$name.pem" 2>/dev/null
  fi
}

ca ca "Postage Test CA (test only)"
ca other-ca "Some Other CA (test only)"
leaf good ca 'cn = "localhost"' 'dns_name = "localhost"' 'ip_address = "127.0.0.1"' \
  'ip_address = "::1"' 'expiration_days = 3650'
leaf wrong-host ca 'cn = "mail.other.test"' 'dns_name = "mail.other.test"' 'expiration_days = 3650'
leaf expired ca 'cn = "localhost"' 'dns_name = "localhost"' \
  'activation_date = "2019-01-01 00:00:00"' 'expiration_date = "2020-01-01 00:00:00"'
leaf self-signed self 'cn = "localhost"' 'dns_name = "localhost"' 'expiration_days = 3650'
leaf unknown-ca other-ca 'cn = "localhost"' 'dns_name = "localhost"' 'expiration_days = 3650'
leaf ip-only ca 'cn = "127.0.0.1"' 'ip_address = "127.0.0.1"' 'expiration_days = 3650'
rm -f ./*.tmpl
