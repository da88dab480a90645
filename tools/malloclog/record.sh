#!/bin/bash
# Record a real program's allocations with build/malloclog.so and turn them
# into traces/real-PROGRAM.trace.  Run from the top of the tree:
#
#	tools/malloclog/record.sh PROGRAM [OUT]
#
# PROGRAM is one of the recipes below; OUT defaults to traces/real-PROGRAM.trace.
# Each recipe logs only the programs named in it (LD_PRELOAD is set on their
# command lines, not on this script), in a fresh temporary directory that is
# removed afterwards.  Only loopback is used.  The logs are kept if KEEPLOGS=1.
set -euo pipefail

prog=${1:?usage: record.sh openssl-genrsa|tls13|ssh-keygen|gpg [OUT]}
out=${2:-traces/real-$prog.trace}
top=$(pwd)
so=$top/build/malloclog.so
tot=$top/tools/malloclog/totrace.py
port=${PORT:-47443}

test -f "$so" || { echo "record.sh: no $so (run: ninja build/malloclog.so)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/malloclog.XXXXXX)
cleanup() {
	if [ "$prog" = gpg ]; then GNUPGHOME=$tmp/gnupg gpgconf --kill all 2>/dev/null || true; fi
	if [ "${KEEPLOGS:-0}" = 1 ]; then echo "logs kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
mkdir "$tmp/log"
log=$tmp/log/$prog
logged() { env MALLOCLOG="$log" LD_PRELOAD="$so" "$@"; }
window=()

case $prog in
openssl-genrsa)
	what="openssl genpkey: a 2048-bit RSA key"
	cmd="openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out \$tmp/key.pem"
	logged openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
	;;
tls13)
	what="a TLS 1.3 handshake on 127.0.0.1:$port, openssl s_server and s_client both logged"
	cmd="openssl s_server -accept 127.0.0.1:$port -cert \$tmp/cert.pem -key \$tmp/key.pem -no-CAfile -no-CApath -no-CAstore -tls1_3 -naccept 1 -quiet & openssl s_client -connect 127.0.0.1:$port -servername localhost -CAfile \$tmp/cert.pem -no-CApath -no-CAstore -verify_return_error -tls1_3 -brief </dev/null"
	# the certificate is made first, unlogged: an EC P-256 self-signed one
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
	# no default trust store: parsing its ~140 certificates would be most of the log
	timeout 30 env MALLOCLOG="$log" LD_PRELOAD="$so" openssl s_server -accept 127.0.0.1:$port \
		-cert "$tmp/cert.pem" -key "$tmp/key.pem" -no-CAfile -no-CApath -no-CAstore \
		-tls1_3 -naccept 1 -quiet >/dev/null 2>&1 &
	server=$!
	# wait until it listens, without connecting: -naccept counts connections
	hexport=$(printf ':%04X ' $port)
	for i in $(seq 100); do
		grep -q "0100007F$hexport.* 0A " /proc/net/tcp && break
		sleep 0.1
	done
	timeout 30 env MALLOCLOG="$log" LD_PRELOAD="$so" openssl s_client -connect 127.0.0.1:$port \
		-servername localhost -CAfile "$tmp/cert.pem" -no-CApath -no-CAstore \
		-verify_return_error -tls1_3 -brief </dev/null >"$tmp/client.out" 2>&1
	grep -q "CONNECTION ESTABLISHED" "$tmp/client.out" || { cat "$tmp/client.out" >&2; exit 1; }
	wait $server
	# both programs spend most of their allocations starting up (OpenSSL
	# fetches every algorithm); the trace starts at the client's connect
	window=(--from-mark connect)
	;;
ssh-keygen)
	what="ssh-keygen: an ed25519 key without a passphrase"
	cmd="ssh-keygen -q -t ed25519 -N '' -C pebble -f \$tmp/id"
	logged ssh-keygen -q -t ed25519 -N '' -C pebble -f "$tmp/id"
	;;
gpg)
	what="gpg --batch --gen-key: an ed25519/cv25519 key in a fresh GNUPGHOME (gpg and the gpg-agent it starts)"
	cmd="gpg --batch --gen-key \$tmp/params (params: %no-protection, Key-Type: eddsa, Key-Curve: ed25519, Subkey-Type: ecdh, Subkey-Curve: cv25519, Name-Real: Pebble Test, Name-Email: pebble@example.org, Expire-Date: 0, %commit), GNUPGHOME=\$tmp/gnupg; then gpgconf --kill all, unlogged"
	mkdir -m 700 "$tmp/gnupg"
	cat >"$tmp/params" <<-'EOF'
	%no-protection
	Key-Type: eddsa
	Key-Curve: ed25519
	Subkey-Type: ecdh
	Subkey-Curve: cv25519
	Name-Real: Pebble Test
	Name-Email: pebble@example.org
	Expire-Date: 0
	%commit
	EOF
	GNUPGHOME=$tmp/gnupg timeout 60 env MALLOCLOG="$log" LD_PRELOAD="$so" gpg --batch --gen-key "$tmp/params" 2>/dev/null
	GNUPGHOME=$tmp/gnupg gpgconf --kill all
	sleep 0.5
	;;
*)
	echo "record.sh: unknown program $prog" >&2
	exit 1
	;;
esac

/usr/bin/python3 "$tot" -o "$out" "${window[@]}" --workload "real-$prog" \
	--comment "Real program: $what." \
	--comment "Recorded by: tools/malloclog/record.sh $prog (see traces/README.md, Real programs)" \
	--comment "Command: $cmd" \
	--comment "Logger: build/malloclog.so; converter: tools/malloclog/totrace.py" \
	"$log".*
echo "record.sh: wrote $out ($(wc -c <"$out") bytes) from $(ls "$log".* | wc -l) process logs" >&2
