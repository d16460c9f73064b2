--- options
{"adapters": ["duckdb"]}
--- macro macros/features.sql
{% macro build_list(items) %}
  {%- set out = [] -%}
  {%- for i in items -%}{% do out.append(i ~ '_x') %}{%- endfor -%}
  {%- do out.extend(['tail']) -%}
  {%- set d = {} -%}
  {%- do d.update({'k': 'v'}) -%}{%- do d.setdefault('z', 1) -%}
  {{ return({'list': out, 'dict': d, 'popped': out.pop()}) }}
{% endmacro %}
{% macro wrap() %}<{{ caller() }}>{% endmacro %}
{% macro flexible(a) %}{{ a }}|{{ varargs | join(',') }}|{{ kwargs | tojson }}{% endmacro %}
{% macro py_colon(x) %}{% if x: %}yes{% else: %}no{% endif %}{% endmacro %}
--- model
{%- set r = build_list(['a', 'b']) -%}
list={{ r.list }} dict={{ r.dict }} popped={{ r.popped }}
call={% call wrap() %}inner {{ 1 + 1 }}{% endcall %}
flex={{ flexible(1, 2, 3, k='v') }}
colon={{ py_colon(true) }} {{ py_colon(false) }}
{% set ns = namespace(total=0) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% endfor %}ns={{ ns.total }}
re={{ modules.re.sub('[0-9]+', 'N', 'a1b22') }} {{ modules.re.match('(\\w+)@(\\w+)', 'me@host').group(2) }} {{ modules.re.findall('\\d', 'a1b2') }} {{ 'yes' if modules.re.search('B', 'abc', modules.re.IGNORECASE) else 'no' }}
dt={{ modules.datetime.datetime(2024, 3, 5, 6, 7, 8).strftime('%Y/%m/%d %H:%M') }} {{ modules.datetime.date(2024, 1, 2) }} {{ modules.datetime.datetime.strptime('2024-02-03', '%Y-%m-%d').isoformat() }}
rel={{ api.Relation.create(database='d', schema='s', identifier='t') }} {{ this.include(database=false) }} {{ this.incorporate(path={'identifier': 'other'}) }}
