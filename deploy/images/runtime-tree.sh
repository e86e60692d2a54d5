#!/bin/sh
# Assembles one app's runtime tree in OUT, inside the image build (Dockerfile), from a workspace
# that is already built: the root package.json, the production dependencies of that app alone
# (npm ci --omit=dev --workspace), and the package.json and dist of the app and of every lib it
# depends on. No sources, tests or dev tools.
#
#   sh deploy/images/runtime-tree.sh <app> <out>
set -eu
APP=$1
OUT=$2
test -d "apps/$APP" || { echo "no app apps/$APP" >&2; exit 1; }

rm -rf node_modules apps/*/node_modules libs/*/node_modules
npm ci --omit=dev --workspace="apps/$APP"

copy_package() { # <dir>: its package.json, dist and own node_modules
  mkdir -p "$OUT/$1"
  cp -r "$1/package.json" "$1/dist" "$OUT/$1/"
  if [ -d "$1/node_modules" ]; then cp -r "$1/node_modules" "$OUT/$1/"; fi
}

mkdir -p "$OUT"
cp -r package.json node_modules "$OUT/"
copy_package "apps/$APP"
# npm ls names each workspace the app uses by its link (node_modules/@tms/<name>); the lib is
# where the link points.
for link in $(npm ls --omit=dev --all --parseable --workspace="apps/$APP" | grep -E '/node_modules/@tms/[^/]+$' | sort -u); do
  dir=$(realpath --relative-to="$(pwd)" "$link")
  case "$dir" in libs/*) copy_package "$dir" ;; esac
done
# Links to workspaces this app does not run (the tests' helpers, the other apps) would dangle.
find "$OUT/node_modules/@tms" -xtype l -delete
