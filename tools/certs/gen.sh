#!/usr/bin/env bash
# Small local PKI with openssl.
#   gen.sh ca     DIR NAME                       -> DIR/NAME.crt, DIR/NAME.key (self-signed CA)
#   gen.sh server DIR NAME CA_PREFIX SAN[,SAN..]  -> serving cert; SANs are DNS names or IPs
#   gen.sh client DIR NAME CA_PREFIX CN [ORG]     -> client cert (CN = user, O = group)
# Keys are EC P-256: fast handshakes, accepted by Go's and OpenSSL's TLS alike.
set -euo pipefail
kind=$1 dir=$2 name=$3
mkdir -p "$dir"
key=$dir/$name.key crt=$dir/$name.crt
openssl ecparam -name prime256v1 -genkey -noout -out "$key.tmp" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$key.tmp" -out "$key"; rm -f "$key.tmp"
chmod 600 "$key"
case "$kind" in
  ca)
    openssl req -x509 -new -key "$key" -sha256 -days 3650 -subj "/CN=$name" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$crt" 2>/dev/null ;;
  server|client)
    ca=$4
    if [ "$kind" = server ]; then
      sans=""
      IFS=, read -ra list <<< "$5"
      for s in "${list[@]}"; do
        if [[ $s =~ ^[0-9.]+$ || $s == *:* ]]; then sans+="IP:$s,"; else sans+="DNS:$s,"; fi
      done
      subj="/CN=${list[0]}"; ext="subjectAltName=${sans%,}
extendedKeyUsage=serverAuth"
    else
      subj="/CN=$5"; [ -n "${6:-}" ] && subj="/O=$6/CN=$5"
      ext="extendedKeyUsage=clientAuth"
    fi
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$ext" > "$dir/$name.ext"
    openssl req -new -key "$key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
    openssl x509 -req -in "$dir/$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
      -days 825 -sha256 -extfile "$dir/$name.ext" -out "$crt" 2>/dev/null
    rm -f "$dir/$name.csr" "$dir/$name.ext" ;;
  *) echo "usage: gen.sh ca|server|client DIR NAME ..." >&2; exit 2 ;;
esac
