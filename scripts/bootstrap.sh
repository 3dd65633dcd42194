#!/usr/bin/env bash
# Set up .venv (Python 3.12+) with reesim and all its extras (ui, sweeps, cluster, dev) pinned by requirements.lock, then the
# offline Solara assets. Idempotent: pip runs only when pyproject.toml, requirements.lock or the set
# of top-level packages changed since the last install. Override the interpreter with PYTHON=...
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp=$venv/.reesim-install.sha256

is_312() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

find_python() {
  local c v root
  if [ -n "${PYTHON:-}" ]; then is_312 "$PYTHON" && echo "$PYTHON"; return; fi
  for c in python3.13 python3.12 python3; do
    if command -v "$c" >/dev/null && is_312 "$c"; then command -v "$c"; return; fi
  done
  # pyenv's python3.X shims fail unless that version is active: use the interpreters themselves,
  # 3.12 first (the version requirements.lock was made with)
  command -v pyenv >/dev/null || return 1
  root=$(pyenv root)
  for v in $(pyenv versions --bare | sort -V); do
    for c in "$root/versions/$v"/bin/python3.1[2-9]; do
      if [ -x "$c" ] && is_312 "$c"; then echo "$c"; return; fi
    done
  done
  return 1
}

if ! is_312 "$venv/bin/python"; then
  py=$(find_python) || {
    if [ -n "${PYTHON:-}" ]; then why="PYTHON=$PYTHON is not one"
    else why="none was found (tried python3.13, python3.12, python3 and the pyenv versions)"; fi
    echo "bootstrap: reesim needs Python 3.12+, and $why." >&2
    echo "  Install Python 3.12 or newer, or point to one: PYTHON=/path/to/python3.12 $0" >&2
    exit 1
  }
  echo "bootstrap: creating $venv with $py ($("$py" -V))"
  rm -rf "$venv"
  "$py" -m venv "$venv"
fi

# also re-install when a top-level folder first gets Python code: the editable install maps only
# the packages that existed when it ran
hash=$({ cat pyproject.toml setup.py requirements.lock; printf '%s\n' */*.py | cut -d/ -f1 | sort -u; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
  echo "bootstrap: installing reesim and its dependencies into $venv ($("$venv/bin/python" -V))"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
  echo "$hash" > "$stamp"
else
  echo "bootstrap: $venv is up to date ($("$venv/bin/python" -V))"
fi

# compile the numba market kernels once (cached next to sim/clearing_kernel.py), so that no later run,
# sweep or UI session pays the ~8 s of compiling in the middle of its work; seconds when already cached
echo "bootstrap: compiling the market kernels (numba cache)"
"$venv/bin/python" -c "import sim.market as m; m.COMPILED = True
from sim.model import RareEarthModel; RareEarthModel('baseline', seed=1, until='2024-03').run()
import sys; sys.exit(0 if m.kernel() is not None else 'numba kernels unavailable')" \
  || echo "bootstrap: the numba kernels could not be compiled; markets will clear in numpy" >&2

if command -v npm >/dev/null || [ "${CI:-}" = true ]; then
  scripts/fetch_solara_assets.sh
else
  echo "bootstrap: npm not found, skipping the offline Solara assets (the UI will use the public CDN)" >&2
fi
