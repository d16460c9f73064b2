# Shared settings for the repo's scripts: one stable cargo target directory
# outside the clone, so DuckDB's C++ (40+ minutes of CPU) is built once per
# machine, not once per clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hangar/target}"
