#!/bin/sh
# Run in a runtime image's last stage: removes the base image's pip, setuptools and wheel, since
# nothing installs at run time (the application's virtualenv is copied in without them).
# Official python images carry them under /usr/local; Debian's python carries them as packages.
set -eu
python -m pip uninstall --yes --quiet pip setuptools wheel 2>/dev/null || true
if dpkg-query -W -f '${Status}' python3-pip 2>/dev/null | grep -q installed; then
  apt-get purge -y --auto-remove -qq python3-pip python3-setuptools python3-wheel >/dev/null
fi
rm -f /usr/local/bin/pip /usr/local/bin/pip3 /usr/local/bin/pip3.*
if python -c 'import importlib.util as u, sys; sys.exit(not any(map(u.find_spec, ["pip", "setuptools"])))'; then
  echo "remove-pip: pip or setuptools is still importable" >&2
  exit 1
fi
