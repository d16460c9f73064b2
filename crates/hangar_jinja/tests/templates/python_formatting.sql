--- options
{"adapters": ["duckdb"], "project_vars": {"n": 3}}
--- model
{%- set label = '%s_%s' % ('dim', 'members') -%}
{%- set rows = "%d rows" % var('n') -%}
-- {{ label }}, {{ rows }}, {{ '%05.1f%%' % 2.5 }}
-- {{ '%(t)s has %(n)d rows (%(pct).1f%%)' % {'t': 'orders', 'n': var('n'), 'pct': 12.345} }}
select 1 as id where 7 % 3 = 1 and 'a%' like 'a%'
