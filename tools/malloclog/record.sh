#!/bin/bash
# Record a real program's allocations and turn them into a trace.  Run from
# the top of the tree:
#
#	[WITH=malloclog|mtrace|heaptrack] tools/malloclog/record.sh PROGRAM [OUT]
#
# PROGRAM is one of the recipes below; OUT defaults to
# traces/real-PROGRAM.trace, or traces/real-PROGRAM-WITH.trace when WITH is
# not the default.  WITH names the recorder:
#   malloclog  build/malloclog.so, the project's logger (ninja build/malloclog.so):
#              every process and thread, real times;
#   mtrace     glibc's mtrace: MALLOC_TRACE=LOG with libc_malloc_debug.so.0
#              and build/mtraceon.so (which calls mtrace()) in LD_PRELOAD:
#              one process, no threads or times;
#   heaptrack  heaptrack -o LOG PROGRAM: one process, times, no pointers.
# The recorder is set on the programs named in each recipe only (LD_PRELOAD on
# their command lines, not on this script), in a fresh temporary directory
# that is removed afterwards.  Only loopback is used.  The logs are kept if
# KEEPLOGS=1.
set -euo pipefail

prog=${1:?usage: [WITH=malloclog|mtrace|heaptrack] record.sh openssl-genrsa|tls13|ssh-keygen|ssh-keygen-y|gpg|gpg-verify [OUT]}
with=${WITH:-malloclog}
suffix=; [ "$with" = malloclog ] || suffix=-$with
out=${2:-traces/real-$prog$suffix.trace}
top=$(pwd)
so=$top/build/malloclog.so
mtso=$top/build/mtraceon.so
tot=$top/tools/malloclog/totrace.py
port=${PORT:-47443}

tmp=$(mktemp -d /tmp/malloclog.XXXXXX)
cleanup() {
	case $prog in gpg*) GNUPGHOME=$tmp/gnupg gpgconf --kill all 2>/dev/null || true;; esac
	if [ "${KEEPLOGS:-0}" = 1 ]; then echo "logs kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
mkdir "$tmp/log"
log=$tmp/log/$prog
# record: the command that runs its arguments under the recorder; the
# recording is the files $log.*
case $with in
malloclog)
	test -f "$so" || { echo "record.sh: no $so (run: ninja build/malloclog.so)" >&2; exit 1; }
	record=(env MALLOCLOG="$log" LD_PRELOAD="$so")
	how="Logger: build/malloclog.so; converter: tools/malloclog/totrace.py"
	;;
mtrace)
	test -f "$mtso" || { echo "record.sh: no $mtso (run: ninja build/mtraceon.so)" >&2; exit 1; }
	record=(env MALLOC_TRACE="$log.mtrace" LD_PRELOAD="libc_malloc_debug.so.0 $mtso")
	how="Recorder: glibc mtrace, MALLOC_TRACE=\$tmp/log/$prog.mtrace LD_PRELOAD=\"libc_malloc_debug.so.0 build/mtraceon.so\" COMMAND; converter: tools/malloclog/totrace.py"
	;;
heaptrack)
	command -v heaptrack >/dev/null || { echo "record.sh: no heaptrack (run: tools/setup)" >&2; exit 1; }
	record=(heaptrack -o "$log")
	how="Recorder: $(heaptrack --version 2>&1 | head -1), heaptrack -o \$tmp/log/$prog COMMAND (writes \$tmp/log/$prog.zst); converter: tools/malloclog/totrace.py"
	;;
*)
	echo "record.sh: unknown recorder WITH=$with (malloclog, mtrace or heaptrack)" >&2
	exit 1
	;;
esac
# heaptrack talks on standard output; the programs' own output is not wanted
logged() { "${record[@]}" "$@" >>"$tmp/recorder.out"; }
window=()

# a fresh GNUPGHOME and the parameters of an ed25519 key without a
# passphrase, with a cv25519 subkey if $1 is "subkey"
gpgparams() {
	mkdir -m 700 "$tmp/gnupg"
	{
		printf '%s\n' %no-protection 'Key-Type: eddsa' 'Key-Curve: ed25519'
		[ "${1:-}" != subkey ] || printf '%s\n' 'Subkey-Type: ecdh' 'Subkey-Curve: cv25519'
		printf '%s\n' 'Name-Real: Pebble Test' 'Name-Email: pebble@example.org' \
			'Expire-Date: 0' %commit
	} >"$tmp/params"
}

case $prog in
openssl-genrsa)
	what="openssl genpkey: a 2048-bit RSA key"
	cmd="openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out \$tmp/key.pem"
	logged openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
	;;
tls13)
	[ "$with" = malloclog ] || { echo "record.sh: tls13 is two processes: WITH=malloclog only" >&2; exit 1; }
	what="a TLS 1.3 handshake on 127.0.0.1:$port, openssl s_server and s_client both logged"
	cmd="openssl s_server -accept 127.0.0.1:$port -cert \$tmp/cert.pem -key \$tmp/key.pem -no-CAfile -no-CApath -no-CAstore -tls1_3 -naccept 1 -quiet & openssl s_client -connect 127.0.0.1:$port -servername localhost -CAfile \$tmp/cert.pem -no-CApath -no-CAstore -verify_return_error -tls1_3 -brief </dev/null"
	# the certificate is made first, unlogged: an EC P-256 self-signed one
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
	# no default trust store: parsing its ~140 certificates would be most of the log
	timeout 30 "${record[@]}" openssl s_server -accept 127.0.0.1:$port \
		-cert "$tmp/cert.pem" -key "$tmp/key.pem" -no-CAfile -no-CApath -no-CAstore \
		-tls1_3 -naccept 1 -quiet >/dev/null 2>&1 &
	server=$!
	# wait until it listens, without connecting: -naccept counts connections
	hexport=$(printf ':%04X ' $port)
	for i in $(seq 100); do
		grep -q "0100007F$hexport.* 0A " /proc/net/tcp && break
		sleep 0.1
	done
	timeout 30 "${record[@]}" openssl s_client -connect 127.0.0.1:$port \
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
	gpgparams subkey
	GNUPGHOME=$tmp/gnupg timeout 60 "${record[@]}" gpg --batch --gen-key "$tmp/params" >>"$tmp/recorder.out" 2>&1
	GNUPGHOME=$tmp/gnupg gpgconf --kill all
	sleep 0.5
	;;
ssh-keygen-y)
	what="ssh-keygen -y: the public key of an ed25519 private key"
	cmd="ssh-keygen -y -f \$tmp/id, after (unrecorded) ssh-keygen -q -t ed25519 -N '' -C pebble -f \$tmp/id"
	ssh-keygen -q -t ed25519 -N '' -C pebble -f "$tmp/id"
	logged ssh-keygen -y -f "$tmp/id"
	;;
gpg-verify)
	what="gpg --verify: a detached ed25519 signature of a short file checked in a fresh GNUPGHOME"
	cmd="gpg --batch --verify \$tmp/msg.sig \$tmp/msg, GNUPGHOME=\$tmp/gnupg; first, unrecorded: gpg --batch --gen-key with %no-protection, Key-Type: eddsa, Key-Curve: ed25519, Name-Real: Pebble Test, Name-Email: pebble@example.org, Expire-Date: 0, %commit; echo 'Pebble secure storage' > \$tmp/msg; gpg --batch --detach-sign \$tmp/msg; gpgconf --kill all"
	gpgparams
	echo 'Pebble secure storage' >"$tmp/msg"
	GNUPGHOME=$tmp/gnupg gpg --batch --gen-key "$tmp/params" 2>/dev/null
	GNUPGHOME=$tmp/gnupg gpg --batch --detach-sign "$tmp/msg" 2>/dev/null
	GNUPGHOME=$tmp/gnupg gpgconf --kill all
	GNUPGHOME=$tmp/gnupg timeout 60 "${record[@]}" gpg --batch --verify "$tmp/msg.sig" "$tmp/msg" >>"$tmp/recorder.out" 2>&1
	;;
*)
	echo "record.sh: unknown program $prog" >&2
	exit 1
	;;
esac

# converted in the log directory, so the header names the files without $tmp
outpath=$(realpath -m "$out")
cd "$tmp/log"
/usr/bin/python3 "$tot" -o "$outpath" "${window[@]}" --workload "real-$prog" \
	--comment "Real program: $what." \
	--comment "Recorded by: tools/malloclog/record.sh $prog, WITH=$with (see traces/README.md, Real programs)" \
	--comment "Command: $cmd" \
	--comment "$how" \
	"$prog".*
echo "record.sh: wrote $out ($(wc -c <"$outpath") bytes) from $(ls "$prog".* | wc -l) file(s) by $with" >&2
