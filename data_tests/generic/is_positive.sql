{#- Fails for every row whose column is zero or negative (nulls pass). -#}
{% test is_positive(model, column_name) %}

select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} <= 0

{% endtest %}
