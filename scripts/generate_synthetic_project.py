#!/usr/bin/env python3
"""Generate a synthetic dbt project of N models, shaped like a large real one.

Used to measure hangar (and dbt) on projects far bigger than The Hanger.
The output is deterministic for a given N and is a valid dbt project:

- layers: staging (~30%), intermediate (~40%), marts (~30%);
- staging models read a source table (one source per ~50 staging models);
  intermediate and mart models ref 1-4 earlier models;
- project macros, Jinja for-loops and config() calls in some files, a few
  ephemeral intermediates and incremental marts;
- property YAML in a handful of large files (~500 bytes per model: a
  description, column descriptions and ~3 generic tests per model);
- a few seeds, and every source table points at one of them (staging
  models carry a `-- depends_on: ref(seed)` comment), so `dbt build` runs
  end to end on the DuckDB target;
- profiles.yml with a DuckDB target writing target/synthetic.duckdb.

Usage: python3 scripts/generate_synthetic_project.py N OUTDIR
           [--project-file dbt_project.yml|hangar_project.yml]
"""

import argparse
import random
import sys
from pathlib import Path

STAGING_SHARE = 0.3
INTERMEDIATE_SHARE = 0.4
MODELS_PER_SOURCE = 50
MODELS_PER_YAML_FILE = 2000
N_SEEDS = 5
SEED_ROWS = 100
STATUSES = ["placed", "shipped", "completed", "returned"]
CHANNELS = ["web", "store", "app", "partner"]
MEASURES = ["amount", "quantity"]

PROJECT_NAME = "synthetic"


class Model:
    """One generated model: its name, layer, parents and materialization."""

    def __init__(self, name, layer, index, parents, materialized, source=None):
        self.name = name
        self.layer = layer
        self.index = index
        self.parents = parents
        self.materialized = materialized
        self.source = source  # (source_name, table_name) for staging models


def layer_sizes(n):
    n_stg = max(1, round(n * STAGING_SHARE))
    n_int = max(0, round(n * INTERMEDIATE_SHARE))
    n_mart = max(0, n - n_stg - n_int)
    return n_stg, n_int, n_mart


def plan_models(n, rng):
    """Decide every model's name, layer, parents and materialization."""
    n_stg, n_int, n_mart = layer_sizes(n)
    staging, intermediate, marts = [], [], []
    for i in range(n_stg):
        source = (f"src_{i // MODELS_PER_SOURCE:03d}", f"table_{i:05d}")
        staging.append(Model(f"stg_{i:05d}", "staging", i, [], "view", source))
    for i in range(n_int):
        # Mostly staging parents, sometimes an earlier intermediate.
        pool = staging + [m for m in intermediate[-200:] if m.materialized != "ephemeral"]
        parents = pick_parents(rng, pool, recent=staging[-300:] if rng.random() < 0.5 else None)
        materialized = "ephemeral" if i % 25 == 7 else "view"
        intermediate.append(Model(f"int_{i:05d}", "intermediate", i, parents, materialized))
    non_ephemeral_int = [m for m in intermediate if m.materialized != "ephemeral"] or staging
    for i in range(n_mart):
        pool = non_ephemeral_int + marts[-100:]
        parents = pick_parents(rng, pool)
        materialized = "incremental" if i % 20 == 3 else "table"
        marts.append(Model(f"fct_{i:05d}" if i % 3 else f"dim_{i:05d}", "marts", i,
                           parents, materialized))
    return staging, intermediate, marts


def pick_parents(rng, pool, recent=None):
    k = min(len(pool), rng.choice([1, 1, 2, 2, 2, 3, 3, 4]))
    candidates = recent if recent else pool
    first = rng.choice(candidates)
    others = rng.sample(pool, k)
    parents = [first] + [p for p in others if p is not first]
    return parents[:k]


# --- SQL -------------------------------------------------------------------

def staging_sql(model):
    source_name, table_name = model.source
    config = ""
    if model.index % 10 == 0:
        config = "{{ config(tags=['hourly']) }}\n\n"
    # The source table is a seed; dbt adds no source->seed edge, so the
    # depends_on comment makes `dbt build` load the seed first.
    seed = f"raw_orders_{model.index % N_SEEDS}"
    return f"""{config}-- depends_on: {{{{ ref('{seed}') }}}}

with source as (

    select * from {{{{ source('{source_name}', '{table_name}') }}}}

),

renamed as (

    select
        cast(id as {{{{ dbt.type_int() }}}}) as id,
        {{{{ normalize_status('status') }}}} as status,
        cast(channel as {{{{ dbt.type_string() }}}}) as channel,
        {{{{ cents_to_dollars('amount_cents') }}}} as amount,
        cast(quantity as {{{{ dbt.type_int() }}}}) as quantity,
        cast(created_at as {{{{ dbt.type_timestamp() }}}}) as created_at
    from source

)

select * from renamed
"""


def derived_sql(model):
    """Intermediate and mart models: join every parent on id, add up measures."""
    lines = []
    if model.materialized == "incremental":
        lines.append("{{\n    config(\n        materialized='incremental',\n"
                     "        unique_key='id'\n    )\n}}\n")
    elif model.materialized == "ephemeral":
        lines.append("{{ config(materialized='ephemeral') }}\n")
    elif model.index % 7 == 0:
        lines.append(f"{{{{ config(materialized='{model.materialized}', "
                     f"tags=['{model.layer}_heavy']) }}}}\n")
    aliases = [f"p{i + 1}" for i in range(len(model.parents))]
    lines.append(f"-- {model.name}: combines {', '.join(p.name for p in model.parents)}.")
    lines.append("with " + ",\n\n".join(
        f"{alias} as (\n\n    select * from {{{{ ref('{parent.name}') }}}}\n\n)"
        for alias, parent in zip(aliases, model.parents)
    ))
    lines.append("")
    lines.append("select")
    lines.append("    p1.id,")
    lines.append("    p1.status,")
    lines.append("    p1.channel,")
    lines.append(f"    {{% for measure in {MEASURES!r} %}}")
    terms = " + ".join(
        [f"p1.{{{{ measure }}}}"] + [f"coalesce({a}.{{{{ measure }}}}, 0)" for a in aliases[1:]]
    )
    lines.append(f"    {terms} as {{{{ measure }}}},")
    lines.append("    {% endfor %}")
    lines.append("    p1.created_at")
    lines.append("from p1")
    for alias in aliases[1:]:
        lines.append(f"left join {alias}\n    on p1.id = {alias}.id")
    if model.materialized == "incremental":
        lines.append("{% if is_incremental() %}")
        lines.append("where p1.created_at > (select max(created_at) from {{ this }})")
        lines.append("{% endif %}")
    return "\n".join(lines) + "\n"


# --- YAML ------------------------------------------------------------------

def model_yaml(model):
    parents = " and ".join(p.name for p in model.parents) or "its source table"
    tests_on_id = ["          - unique", "          - not_null"]
    first = model.parents[0] if model.parents else None
    status_tests = []
    if first is not None and model.index % 2 == 0:
        tests_on_id += [
            "          - relationships:",
            "              arguments:",
            f"                to: ref('{first.name}')",
            "                field: id",
        ]
    else:
        status_tests = [
            "        data_tests:",
            "          - accepted_values:",
            "              arguments:",
            f"                values: {flow_list(STATUSES)}",
        ]
        if model.index % 5 == 0:
            status_tests += ["              config:", "                severity: warn"]
    lines = [
        f"  - name: {model.name}",
        f"    description: \"{model.layer.capitalize()} model {model.index}, built from {parents}.\"",
        "    columns:",
        "      - name: id",
        "        description: '{{ doc(\"synthetic_id\") }}'",
        "        data_tests:",
        *tests_on_id,
        "      - name: status",
        "        description: Order status, lower-cased.",
        *status_tests,
        "      - name: amount",
        "        description: Amount in dollars.",
    ]
    return "\n".join(lines)


def flow_list(values):
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def write_property_files(models_dir, layer, models):
    for start in range(0, len(models), MODELS_PER_YAML_FILE):
        chunk = models[start:start + MODELS_PER_YAML_FILE]
        body = "\n\n".join(model_yaml(m) for m in chunk)
        path = models_dir / layer / f"_{layer}__models_{start // MODELS_PER_YAML_FILE:02d}.yml"
        path.write_text("models:\n" + body + "\n", encoding="utf-8")


def write_sources(models_dir, staging):
    by_source = {}
    for model in staging:
        by_source.setdefault(model.source[0], []).append(model)
    lines = ["sources:"]
    for source_name, models in by_source.items():
        lines += [
            f"  - name: {source_name}",
            f"    description: Operational database shard {source_name}.",
            "    schema: \"{{ target.schema }}\"",
            "    tables:",
        ]
        for model in models:
            # Every source table is one of the seeds, so the project runs.
            lines += [
                f"      - name: {model.source[1]}",
                f"        identifier: raw_orders_{model.index % N_SEEDS}",
            ]
    (models_dir / "staging" / "_sources.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- fixed files -------------------------------------------------------------

def project_yml():
    return f"""name: {PROJECT_NAME}
version: "1.0.0"
profile: {PROJECT_NAME}

model-paths: ["models"]
seed-paths: ["seeds"]
macro-paths: ["macros"]
test-paths: ["tests"]

vars:
  status_values: {flow_list(STATUSES)}

models:
  {PROJECT_NAME}:
    staging:
      +materialized: view
      +tags: ["staging"]
    intermediate:
      +materialized: view
    marts:
      +materialized: table
"""


def profiles_yml():
    return f"""{PROJECT_NAME}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: target/{PROJECT_NAME}.duckdb
      schema: main
      threads: 2
"""


MACROS = """{% macro cents_to_dollars(column_name) -%}
    cast({{ column_name }} as {{ dbt.type_numeric() }}) / 100
{%- endmacro %}

{% macro normalize_status(column_name) -%}
    lower(trim(cast({{ column_name }} as {{ dbt.type_string() }})))
{%- endmacro %}
"""

DOCS = """{% docs synthetic_id %}
Primary key shared by every model of the synthetic project: the id of the
order row the model's first ancestor read from its source.
{% enddocs %}
"""


def seed_csv(seed_index, rng):
    rows = ["id,status,channel,amount_cents,quantity,created_at"]
    for row_id in range(1, SEED_ROWS + 1):
        rows.append(",".join([
            str(row_id),
            rng.choice(STATUSES),
            rng.choice(CHANNELS),
            str(rng.randint(100, 50_000)),
            str(rng.randint(1, 9)),
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
        ]))
    return "\n".join(rows) + "\n"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def generate(n, outdir, project_file):
    rng = random.Random(n)
    staging, intermediate, marts = plan_models(n, rng)
    models_dir = outdir / "models"
    for layer in ("staging", "intermediate", "marts"):
        (models_dir / layer).mkdir(parents=True, exist_ok=True)

    write(outdir / project_file, project_yml())
    write(outdir / "profiles.yml", profiles_yml())
    write(outdir / "macros" / "synthetic_utils.sql", MACROS)
    write(models_dir / "docs.md", DOCS)
    for i in range(N_SEEDS):
        write(outdir / "seeds" / f"raw_orders_{i}.csv", seed_csv(i, rng))

    for model in staging:
        write(models_dir / "staging" / f"{model.name}.sql", staging_sql(model))
    for model in intermediate + marts:
        write(models_dir / model.layer / f"{model.name}.sql", derived_sql(model))

    write_sources(models_dir, staging)
    for layer, models in (("staging", staging), ("intermediate", intermediate), ("marts", marts)):
        write_property_files(models_dir, layer, models)

    yaml_bytes = sum(p.stat().st_size for p in outdir.rglob("*.yml"))
    print(f"{outdir}: {len(staging)} staging, {len(intermediate)} intermediate, "
          f"{len(marts)} marts; {yaml_bytes / 1e6:.2f} MB of YAML")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of models (at least 3)")
    parser.add_argument("outdir", type=Path, help="directory to write (created if missing)")
    parser.add_argument("--project-file", default="dbt_project.yml",
                        choices=["dbt_project.yml", "hangar_project.yml"],
                        help="name of the project file (default: dbt_project.yml)")
    args = parser.parse_args(argv[1:])
    if args.n < 3:
        parser.error("n must be at least 3")
    if args.outdir.exists() and any(args.outdir.iterdir()):
        parser.error(f"{args.outdir} exists and is not empty")
    generate(args.n, args.outdir, args.project_file)


if __name__ == "__main__":
    main(sys.argv)
