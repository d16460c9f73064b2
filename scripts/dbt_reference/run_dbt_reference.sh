#!/usr/bin/env bash
# Build The Hanger with real dbt-core on DuckDB, to compare hangar against.
#
# Copies the project to a scratch directory (hangar_project.yml renamed to
# dbt_project.yml), then runs `dbt parse` and `dbt build` there and prints
# their wall-clock times and the row count of every mart.
#
# Not run by CI: it needs dbt-core and dbt-duckdb from PyPI. Set it up once:
#   python3 -m venv /tmp/dbtvenv-hanger
#   /tmp/dbtvenv-hanger/bin/pip install 'dbt-core==1.11.*' dbt-duckdb
#
# Usage: scripts/dbt_reference/run_dbt_reference.sh [WORKDIR]
#   DBT_VENV   venv holding dbt (default /tmp/dbtvenv-hanger)
#   WORKDIR    scratch directory (default: a new mktemp dir); kept afterwards,
#              with target/ (manifest.json, run_results.json, the DuckDB file).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${DBT_VENV:-/tmp/dbtvenv-hanger}"
dbt="$venv/bin/dbt"
workdir="${1:-$(mktemp -d /tmp/hanger-dbt-reference.XXXXXX)}"

if [[ ! -x "$dbt" ]]; then
    echo "dbt not found at $dbt; see the header of this script to install it" >&2
    exit 2
fi

mkdir -p "$workdir"
rm -rf "$workdir/target" "$workdir/logs"
for path in models macros seeds snapshots analyses data_tests profiles.yml selectors.yml; do
    mkdir -p "$workdir/$(dirname "$path")"
    rm -rf "${workdir:?}/$path"
    cp -R "$repo_root/$path" "$workdir/$path"
done
cp "$repo_root/hangar_project.yml" "$workdir/dbt_project.yml"
echo "project copied to $workdir"

cd "$workdir"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false

timed() {
    local label="$1"; shift
    local start end
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    printf '%s took %.2f s\n' "$label" "$(echo "$end - $start" | bc)" | tee -a "$workdir/timings.txt"
}

: > "$workdir/timings.txt"
timed "dbt parse" "$dbt" parse --profiles-dir . --no-partial-parse
timed "dbt build" "$dbt" build --profiles-dir .

echo "row counts of the marts:"
"$venv/bin/python" - <<'PY'
import duckdb
con = duckdb.connect("target/the_hanger.duckdb", read_only=True)
rows = con.execute("""
    select table_schema, table_name
    from information_schema.tables
    where table_schema in ('dev_marts', 'dev_snapshots')
    order by table_schema, table_name
""").fetchall()
for schema, table in rows:
    count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    print(f"  {schema}.{table}: {count}")
PY
