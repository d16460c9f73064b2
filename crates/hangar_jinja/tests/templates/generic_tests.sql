--- options
{"adapters": ["duckdb"], "extra": {"column_name": "status"}}
--- model
{{ test_unique(ref('orders'), 'id') }}
---8<---
{{ test_not_null(ref('orders'), column_name) }}
---8<---
{{ test_accepted_values(ref('orders'), column_name, ['placed', 'shipped']) }}
---8<---
{{ test_accepted_values(ref('orders'), 'n', [1, 2], quote=False) }}
---8<---
{{ test_relationships(ref('orders'), 'customer_id', ref('customers'), 'id') }}
