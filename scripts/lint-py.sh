#!/usr/bin/env bash
# Lints the Python that runs inside sandboxes (resources/): flake8 (pyflakes and pycodestyle) and
# mypy, configured in setup.cfg. Debian packages them (apt-get install flake8 mypy); CI installs
# them in .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in flake8 mypy; do
  command -v "$tool" >/dev/null || {
    echo "lint:py: $tool is not installed (Debian: apt-get install flake8 mypy)" >&2
    exit 1
  }
done
flake8 resources
mypy
