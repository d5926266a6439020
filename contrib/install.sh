#!/bin/sh
# Installs Quorum from this checkout into a virtual environment at PREFIX (default
# /opt/quorum): what the Dockerfile runs, and the VM steps in README run by hand.
#   sh contrib/install.sh [PREFIX]
set -eu

prefix="${1:-/opt/quorum}"
source_dir="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"

"$python" -m venv "$prefix"
"$prefix/bin/pip" install --quiet --upgrade pip
"$prefix/bin/pip" install --quiet "$source_dir"
# bot/render.py reads templates/ beside the installed package, in site-packages.
site="$("$prefix/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
rm -rf "$site/templates"
cp -r "$source_dir/templates" "$site/templates"
"$prefix/bin/quorum" --version
