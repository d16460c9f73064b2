--- options
{"adapters": ["duckdb", "postgres", "snowflake"]}
--- model
string={{ dbt.type_string() }} ts={{ type_timestamp() }} int={{ type_int() }} bigint={{ type_bigint() }} num={{ type_numeric() }} float={{ type_float() }} bool={{ type_boolean() }}
now={{ current_timestamp() }}
add={{ dateadd('day', 3, 'order_date') }}
diff={{ datediff('a', 'b', 'day') }} diff_month={{ datediff('a', 'b', 'month') }}
trunc={{ date_trunc('month', 'd') }} last={{ last_day('d', 'month') }}
concat={{ concat(['a', "'-'", 'b']) }} hash={{ hash('id') }} safe={{ safe_cast('x', 'int') }} bool_text={{ cast_bool_to_text('flag') }}
split={{ split_part('s', "','", 2) }}
listagg={{ listagg('name', "', '", 'order by name') }}
any={{ any_value('x') }} bool_or={{ bool_or('flag') }} esc={{ escape_single_quotes("it's") }} lit={{ string_literal('abc') }}
replace={{ replace('f', "'a'", "'b'") }} len={{ length('f') }} right={{ right('f', 3) }} pos={{ position("'a'", 'f') }}
set_ops={{ except() }} {{ intersect() }}
