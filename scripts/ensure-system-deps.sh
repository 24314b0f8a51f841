#!/usr/bin/env bash
# Installs the system packages the test suite runs for real (DESIGN §6), only when missing.
# Needs root (or passwordless sudo) the first time on a fresh machine; a no-op afterwards.
set -euo pipefail

missing=()
have_pg() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; }
have_pg || missing+=(postgresql)
command -v git >/dev/null || missing+=(git)
command -v prometheus >/dev/null || missing+=(prometheus)
# The compose target's tests run a private engine (dockerd) and the runbook's docker-compose v1.
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
# The swarm stories run three dockerd in network namespaces (test/harness/swarm.ts): ip and nsenter.
command -v ip >/dev/null || missing+=(iproute2)
command -v nsenter >/dev/null || missing+=(util-linux)
command -v redis-server >/dev/null || missing+=(redis-server)
# The ssh target's tests run sshd servers on loopback (test/harness/sshd.ts) and the ssh client.
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
# CI triage is tested on the real output of these tools (test/ci-triage.test.ts), from Debian.
[[ -x /usr/bin/mypy ]] || missing+=(mypy)
[[ -x /usr/bin/flake8 ]] || missing+=(flake8)
[[ -x /usr/bin/pylint ]] || missing+=(pylint)
[[ -x /usr/bin/black ]] || missing+=(black)
/usr/bin/python3 -c 'import pytest' 2>/dev/null || missing+=(python3-pytest)
/usr/bin/python3 -c 'import pytest_cov' 2>/dev/null || missing+=(python3-pytest-cov)
/usr/bin/python3 -c 'import pytest_timeout' 2>/dev/null || missing+=(python3-pytest-timeout)
# The dashboard's browser tests drive Debian's chromium with playwright-core (no browser download).
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)

if ((${#missing[@]} == 0)); then exit 0; fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=(sudo -n); else
    echo "shipgate tests need these packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root." >&2
    exit 2
  fi
fi
echo "installing system packages for the tests: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a cluster on install; the tests start their own on free ports, so stop it.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _; do
    "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" stop 2>/dev/null || true
  done
fi
# Debian's redis-server package starts a system service on 6379 (unless policy-rc.d forbids it, as
# in most containers); the tests start their own redis-server on free ports (test/harness/redis.ts),
# so stop the one we just installed with the package's own init tooling. Never pkill: only this
# service, only when this script installed it; a Redis someone runs on purpose is left alone.
if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v service >/dev/null; then
  "${SUDO[@]}" service redis-server stop >/dev/null 2>&1 || true
fi
# The same for the system services these packages may start on install (sshd on 22, dockerd,
# prometheus): the tests run their own on loopback; only what this script just installed is stopped.
for pkg_service in openssh-server:ssh docker.io:docker prometheus:prometheus; do
  pkg=${pkg_service%%:*} service_name=${pkg_service#*:}
  if [[ " ${missing[*]} " == *" $pkg "* ]] && command -v service >/dev/null; then
    "${SUDO[@]}" service "$service_name" stop >/dev/null 2>&1 || true
  fi
done
