#!/usr/bin/env bash
# Fetch the front-end files Solara would load from its CDN, from the npm registry (`npm pack`),
# into $SOLARA_ASSETS_PROXY_CACHE_DIR (default .solara-assets/), one folder per package named as
# Solara requests it (NAME@VERSION, tarball's top folder stripped). Serve them with
#   SOLARA_ASSETS_PROXY_CACHE_DIR=$PWD/.solara-assets solara run ...
# Folders already there are skipped, so re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${SOLARA_ASSETS_PROXY_CACHE_DIR:-$PWD/.solara-assets}

packages=(
  @widgetti/solara-vuetify-app@10.1.1   # page shell, Vue, Vuetify (solara.html.j2)
  requirejs@2.3.6
  font-awesome@4.5.0
  @widgetti/vue-grid-layout@2.3.13-alpha.2   # SolaraViz grid
  mermaid@10.8.0 katex@0.16.9                # solara.Markdown
  vega@5 vega-lite@5 vega-embed@6            # altair charts: Solara asks for these ranges, the
)                                            # folder keeps the range, npm picks the newest match

command -v npm >/dev/null || { echo "fetch_solara_assets: npm not found (install Node.js + npm)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for spec in "${packages[@]}"; do
  dir=$dest/$spec
  [ -d "$dir" ] && continue
  tgz=$(cd "$tmp" && npm pack --silent "$spec" | tail -n 1)
  rm -rf "$dir.part" && mkdir -p "$dir.part"
  tar -xzf "$tmp/$tgz" -C "$dir.part" --strip-components=1 --no-same-owner
  mv "$dir.part" "$dir"
  echo "fetch_solara_assets: $spec ($tgz)"
done
