#!/bin/sh
# Run build/pebblemlock as a user whose RLIMIT_MEMLOCK is 64 KiB, far
# below the heap it asks for.  root is exempt from the limit
# (CAP_IPC_LOCK), so as root the test drops to nobody with setpriv;
# as anyone else it just lowers its own limit.  Skipped, saying why,
# only where neither can be done.
set -eu
bin=${1:-build/pebblemlock}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$bin" "$dir/pebblemlock"
chmod 755 "$dir" "$dir/pebblemlock"
if [ "$(id -u)" -ne 0 ]; then
	exec sh -c "ulimit -l 64 && exec '$dir/pebblemlock'"
fi
if ! command -v setpriv >/dev/null 2>&1 || ! id nobody >/dev/null 2>&1; then
	echo "mlock: SKIPPED: running as root without setpriv or a user nobody to drop to"
	exit 0
fi
cd "$dir"
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all \
	sh -c "ulimit -l 64 && exec ./pebblemlock"
