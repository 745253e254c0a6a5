#!/usr/bin/env bash
# Prints the path of a working python3.13 (the Lambda runtime): on PATH, else through pyenv.
# Exits 1 with a message on stderr when there is none.
set -uo pipefail
if python3.13 -c 'import sys' >/dev/null 2>&1; then
    command -v python3.13
    exit 0
fi
# A pyenv shim on PATH fails unless 3.13 is the active version, so ask pyenv for its prefix instead.
if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$' | sort -rV); do
        prefix=$(pyenv prefix "$version" 2>/dev/null) || continue
        if "$prefix/bin/python3.13" -c 'import sys' >/dev/null 2>&1; then
            echo "$prefix/bin/python3.13"
            exit 0
        fi
    done
fi
echo "no working python3.13 (the Lambda runtime) on PATH or in pyenv: install one (e.g. 'pyenv install 3.13')," \
     "or set SKIP_SAM_BUILD=1 to skip building and testing the Lambda artifact" >&2
exit 1
